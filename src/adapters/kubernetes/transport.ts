import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UpstreamError } from '../../errors.ts';
import type { KubeClientConfig } from './config.ts';
import { KubeError } from './errors.ts';
import { statusSchema } from './schema.ts';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
}

/**
 * HTTP to one API server with the config's bearer token, CA and client certificate, over a
 * keep-alive agent. A refusal (4xx) becomes a {@link KubeError} with the Status reason; a fault
 * of the server (5xx, timeout, connection refused or reset) an {@link UpstreamError}.
 */
export class KubeTransport {
  private readonly agent: HttpAgent;
  private readonly base: URL;

  constructor(
    readonly config: KubeClientConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = new URL(config.server);
    const tls = {
      keepAlive: true,
      ca: config.caPem,
      cert: config.clientCertPem,
      key: config.clientKeyPem,
      rejectUnauthorized: !config.insecureSkipTlsVerify,
    };
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent(tls) : new HttpAgent(tls);
  }

  /** Sends one request and parses the JSON answer. */
  async request<T>(request: KubeRequest): Promise<T> {
    const response = await this.open(request, this.timeoutMs);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
    throw failureOf(status, text, `${request.method} ${request.path}`);
  }

  /** Opens a streaming GET (a watch); the caller reads and ends the response. */
  async stream(path: string): Promise<IncomingMessage> {
    // No idle timeout: a quiet watch is not a dead one; the server ends it after its own timeout.
    const response = await this.open({ method: 'GET', path }, 0);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    throw failureOf(status, await readAll(response), `GET ${path}`);
  }

  close(): void {
    this.agent.destroy();
  }

  private open(request: KubeRequest, timeoutMs: number): Promise<IncomingMessage> {
    const url = new URL(request.path, this.base);
    const body =
      request.body === undefined
        ? undefined
        : typeof request.body === 'string'
          ? request.body
          : JSON.stringify(request.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const what = `${request.method} ${url.pathname}`;

    return new Promise((resolve, reject) => {
      const outgoing = send(url, { method: request.method, headers, agent: this.agent }, resolve);
      if (timeoutMs > 0) {
        outgoing.setTimeout(timeoutMs, () =>
          outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        );
      }
      outgoing.on('error', (error) =>
        reject(
          new UpstreamError(
            'kubernetes',
            `cluster ${this.config.name} unreachable: ${what}: ${error.message}`,
            {
              cause: error,
            },
          ),
        ),
      );
      outgoing.end(body);
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) =>
      reject(
        new UpstreamError('kubernetes', `response cut off: ${error.message}`, { cause: error }),
      ),
    );
  });
}

function failureOf(status: number, text: string, what: string): Error {
  let parsed: ReturnType<typeof statusSchema.safeParse> | undefined;
  try {
    parsed = statusSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  const message = parsed?.success && parsed.data.message ? parsed.data.message : text.slice(0, 200);
  if (status >= 500 || status === 429) {
    return new UpstreamError('kubernetes', `${what}: ${status} ${message}`, {
      details: { status, reason: parsed?.success ? parsed.data.reason : undefined },
    });
  }
  return KubeError.fromStatus(status, parsed?.success ? parsed.data.reason : undefined, message);
}
