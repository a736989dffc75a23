import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as an emulator route sees it. */
export interface EmulatedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  /** JSON or form body, parsed. */
  body: unknown;
  params: Record<string, string>;
}

/** What a route answers. */
export interface EmulatedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = (request: EmulatedRequest) => EmulatedResponse | Promise<EmulatedResponse>;

/** An injected failure: answered instead of the route for the next matching requests. */
export interface Fault {
  status?: number;
  retryAfter?: string;
  /** Hold the request this long before answering (a timeout when longer than the client waits). */
  delayMs?: number;
  body?: unknown;
  /** Only requests whose `METHOD path` matches; all requests when absent. */
  match?: RegExp;
}

/**
 * The shared machinery of the protocol emulators: node:http on 127.0.0.1, routes with `:param`
 * segments, a request log, and failure injection (401, 404, 409, 429 with Retry-After, 5xx,
 * timeouts) for the next N matching requests.
 */
export class HttpEmulator {
  readonly requests: {
    method: string;
    path: string;
    headers: IncomingMessage['headers'];
    body: unknown;
    /** When the request arrived (ms since the epoch): what retry tests measure waits with. */
    at: number;
  }[] = [];
  private readonly routes: { method: string; pattern: RegExp; names: string[]; route: Route }[] =
    [];
  private readonly faults: { fault: Fault; remaining: number }[] = [];
  private server?: Server;
  url = '';

  /** Adds a route; `path` may hold `:name` segments. */
  on(method: string, path: string, route: Route): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-zA-Z_]+)(\+)?/g, (_, name: string, rest?: string) => {
        names.push(name);
        return rest ? '(.+)' : '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, pattern, names, route });
    return this;
  }

  /** The next `times` matching requests get `fault` instead of their answer. */
  fail(fault: Fault, times = 1): void {
    this.faults.push({ fault, remaining: times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readAll(req);
    const request: EmulatedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body: parseBody(rawBody, req.headers['content-type']),
      params: {},
    };
    this.requests.push({
      method: request.method,
      path: request.path,
      headers: req.headers,
      body: request.body,
      at,
    });
    const answer = (await this.injected(request)) ?? (await this.route(request));
    const headers = { 'content-type': 'application/json', ...answer.headers };
    res.writeHead(answer.status, headers);
    res.end(
      answer.body === undefined
        ? ''
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body),
    );
  }

  private async injected(request: EmulatedRequest): Promise<EmulatedResponse | undefined> {
    const index = this.faults.findIndex(
      ({ fault }) => !fault.match || fault.match.test(`${request.method} ${request.path}`),
    );
    const entry = this.faults[index];
    if (!entry) return undefined;
    if (--entry.remaining <= 0) this.faults.splice(index, 1);
    const { fault } = entry;
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault.status === undefined) return undefined;
    return {
      status: fault.status,
      body: fault.body ?? { error: `injected ${fault.status}` },
      headers: fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
    };
  }

  private async route(request: EmulatedRequest): Promise<EmulatedResponse> {
    for (const { method, pattern, names, route } of this.routes) {
      if (method !== request.method) continue;
      const match = pattern.exec(request.path);
      if (!match) continue;
      names.forEach((name, i) => (request.params[name] = decodeURIComponent(match[i + 1]!)));
      try {
        return await route(request);
      } catch (error) {
        return { status: 500, body: { error: String(error) } };
      }
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The bearer token of a request, if any. */
export function bearerOf(request: EmulatedRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}
