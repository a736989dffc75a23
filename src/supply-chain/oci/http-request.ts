import { once } from 'node:events';
import {
  request as httpRequest,
  Agent as HttpAgent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

/** A registry's answer: status, headers, and the body read on demand. */
export interface RegistryResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** Drops the body unread so the connection can be reused. */
  discard(): void;
}

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /**
   * Sees each slice of the body right after it is handed to the socket, with its offset, so a
   * caller can hash what it sends while the kernel sends it.
   */
  onBodySlice?: (slice: Uint8Array, offset: number) => void;
  /** Longest silence on the socket before the request fails as timed out. */
  idleTimeoutMs: number;
}

/** Keep-alive agents shared by every client of the process. */
const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

/**
 * One HTTP exchange with node:http, which sends large bodies about twice as fast as fetch. The
 * timeout is on silence, not total time, so a large blob on a slow link is not cut off while
 * bytes still flow. Redirects are not followed here.
 */
export function sendHttp(url: URL, options: HttpRequestOptions): Promise<RegistryResponse> {
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.body) headers['Content-Length'] = options.body.length;

  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: options.method,
      headers,
      agent: secure ? agents.https : agents.http,
    });
    request.setTimeout(options.idleTimeoutMs, () => {
      request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    });
    request.on('error', reject);
    request.on('response', (incoming) => resolve(responseOf(incoming)));
    if (!options.onBodySlice || !options.body) request.end(options.body);
    else writeInSlices(request, options.body, options.onBodySlice).catch(reject);
  });
}

const sliceBytes = 1024 * 1024;

async function writeInSlices(
  request: ClientRequest,
  body: Uint8Array,
  onBodySlice: (slice: Uint8Array, offset: number) => void,
): Promise<void> {
  for (let offset = 0; offset < body.length; offset += sliceBytes) {
    const slice = body.subarray(offset, offset + sliceBytes);
    const accepted = request.write(slice);
    onBodySlice(slice, offset);
    if (!accepted) await once(request, 'drain');
  }
  request.end();
}

function responseOf(incoming: IncomingMessage): RegistryResponse {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    for (const item of Array.isArray(value) ? value : [value ?? '']) headers.append(name, item);
  }
  const status = incoming.statusCode ?? 0;
  const bytes = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    bytes,
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    discard: () => void incoming.resume(),
  };
}
