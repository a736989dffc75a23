import { existsSync, readFileSync } from 'node:fs';
import type { WorkspaceContext } from '../workspace/context.ts';
import { DeliveryError } from './errors.ts';
import { isLoopbackHost, type RegistryTarget } from './registry-access.ts';

/** What `changeproof up` wrote to `state/endpoints.json`. */
interface EndpointsFile {
  pid?: number;
  endpoints?: { name: string; url: string }[];
}

/** The `registry` endpoint `changeproof up` published, with the pid of the process serving it. */
export function runningRegistry(ws: WorkspaceContext): { url: string; pid?: number } | undefined {
  if (!existsSync(ws.paths.endpoints)) return undefined;
  const file = JSON.parse(readFileSync(ws.paths.endpoints, 'utf8')) as EndpointsFile;
  const entry = file.endpoints?.find((endpoint) => endpoint.name === 'registry');
  return entry ? { url: entry.url, ...(file.pid ? { pid: file.pid } : {}) } : undefined;
}

/**
 * Where a delivery pushes: `registry.url` in connected mode; in local mode the embedded
 * registry `changeproof up` started, or, when it is not up, the port changeproof.yaml fixes (a
 * push there then fails as an unreachable registry, recorded in the ledger).
 */
export function registryTargetOf(ws: WorkspaceContext): RegistryTarget {
  const configured = ws.config.registry.url;
  if (configured) return targetOfUrl(configured);
  const running = runningRegistry(ws);
  if (running) return targetOfUrl(running.url);
  if (ws.config.registry.port > 0) {
    return { host: `127.0.0.1:${ws.config.registry.port}`, insecure: true };
  }
  throw new DeliveryError(
    'REGISTRY_NOT_CONFIGURED',
    'no registry to push to: start the embedded one with changeproof up, or set registry.url',
  );
}

/** `https://r.example`, `http://127.0.0.1:5000` or a bare `host:port`. */
function targetOfUrl(url: string): RegistryTarget {
  const match = /^(https?):\/\/([^/]+)\/?$/.exec(url);
  const host = match ? match[2]! : url.replace(/\/$/, '');
  const insecure = match ? match[1] === 'http' : isLoopbackHost(host);
  return { host, insecure };
}
