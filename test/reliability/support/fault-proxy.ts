import {
  request as httpRequest,
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does to the next requests. */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'down' }
  | { kind: 'status'; status: 500 | 502 | 503 | 429; retryAfterSeconds?: number }
  | { kind: 'slow'; delayMs: number };

export interface FaultProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  url: string;
  set(fault: Fault): void;
  /** Requests seen, by what the proxy did with them. */
  counts: Record<'passed' | 'dropped' | 'answered' | 'delayed', number>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one outside system (`target`, e.g. http://127.0.0.1:5000)
 * that injects faults: the system down (connections reset), answering 5xx or 429 with
 * Retry-After, or slow. The system's own code is untouched; only the wire misbehaves.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let fault: Fault = { kind: 'pass' };
  const counts = { passed: 0, dropped: 0, answered: 0, delayed: 0 };
  const sockets = new Set<Socket>();

  const forward = (request: IncomingMessage, response: ServerResponse) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: upstream.host },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', () => response.destroy());
    request.pipe(outgoing);
  };

  const server = createServer((request, response) => {
    const now = fault;
    if (now.kind === 'down') {
      counts.dropped += 1;
      request.socket.destroy();
      return;
    }
    if (now.kind === 'status') {
      counts.answered += 1;
      request.resume();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (now.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(now.retryAfterSeconds);
      response.writeHead(now.status, headers);
      response.end(JSON.stringify({ message: `injected ${now.status}` }));
      return;
    }
    if (now.kind === 'slow') {
      counts.delayed += 1;
      setTimeout(() => forward(request, response), now.delayMs);
      return;
    }
    counts.passed += 1;
    forward(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    set: (next) => {
      fault = next;
      // A system going down drops the connections it had, too.
      if (next.kind === 'down') for (const socket of sockets) socket.destroy();
    },
    counts,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
