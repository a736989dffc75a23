import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request a client sent through the proxy, as the API server received it. */
export interface ProxiedRequest {
  method: string;
  path: string;
}

/** A plain-HTTP loopback proxy in front of one TLS API server, recording every request. */
export interface CountingProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The mutating requests a client sent to objects other than leader-election Leases: what a
 * replica applied, patched or deleted in the cluster on behalf of the applications.
 */
export function applicationWrites(proxy: CountingProxy): ProxiedRequest[] {
  return proxy.requests.filter(
    (request) =>
      mutatingMethods.has(request.method) && !request.path.includes('/coordination.k8s.io/'),
  );
}

/**
 * Starts a proxy on 127.0.0.1 that forwards every request (watches included, streamed) to
 * `target` over TLS trusting `caPem`, so a kubeconfig pointing at the proxy reaches the same
 * cluster while the test sees exactly which verbs that one client used.
 */
export async function startCountingProxy(target: {
  url: string;
  caPem: string;
}): Promise<CountingProxy> {
  const upstream = new URL(target.url);
  const agent = new Agent({ ca: target.caPem });
  const requests: ProxiedRequest[] = [];

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    requests.push({ method: incoming.method ?? 'GET', path: incoming.url ?? '/' });
    const proxied = httpsRequest(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    proxied.on('error', () => outgoing.destroy());
    // A client that stops watching closes its side; the upstream watch goes with it.
    outgoing.on('close', () => proxied.destroy());
    incoming.pipe(proxied);
  };

  const server = createServer(forward);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
