import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ledger } from '../../ledger/ledger.ts';
import { RegistryAuthenticator, type RegistryAuth } from './auth.ts';
import { BlobStore } from './blob-store.ts';
import { defaultLimits, type RegistryLimits } from './context.ts';
import { dispatch } from './dispatch.ts';
import { OciHttpError, sendOciError } from './errors.ts';
import { RegistryRefusalRecorder } from './refusals.ts';
import { RepositoryStore } from './repository-store.ts';
import { tokenPath } from './routes.ts';

export type { RegistryAuth } from './auth.ts';
export type { RegistryLimits } from './context.ts';
export { openRegistryStorage, RegistryStorage } from './maintenance.ts';
export type { GarbageCollection, StoredManifest } from './maintenance.ts';

export interface RegistryOptions {
  /** Where blobs and repositories are kept; survives restarts. */
  dataDir: string;
  /** Loopback by default; the embedded registry is not meant to face a network. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  auth?: RegistryAuth;
  limits?: Partial<RegistryLimits>;
  /** Where refusals of hostile requests are recorded (`registry.refused`); none when absent. */
  ledger?: Ledger;
}

export interface RunningRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, the registry part of image references. */
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the embedded OCI registry: the distribution API (v1.1, with referrers) over plain HTTP
 * on loopback, persistent under `dataDir`, so that changeproof's client, skopeo and cluster
 * runtimes configured for an insecure registry can push and pull.
 *
 * @example
 * const registry = await startRegistry({ dataDir: '.changeproof/registry' });
 * // skopeo copy oci:./image docker://${registry.host}/shop/cart:<sha> --dest-tls-verify=false
 * await registry.close();
 */
export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const host = options.host ?? '127.0.0.1';
  const blobs = new BlobStore(options.dataDir);
  blobs.discardStaleUploads();
  const repositories = new RepositoryStore(options.dataDir);
  const limits = { ...defaultLimits, ...options.limits };
  const refusals = options.ledger && new RegistryRefusalRecorder(options.ledger);

  let baseUrl = '';
  const authenticator = new RegistryAuthenticator(options.auth, () => `${baseUrl}${tokenPath}`);
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const url = new URL(request.url ?? '/', 'http://registry.invalid');
    try {
      await dispatch({ blobs, repositories, limits, request, response, url }, authenticator);
    } catch (error) {
      // Recorded before the answer, so whoever got the refusal finds it in the ledger; a ledger
      // that cannot take the entry does not turn the refusal into anything else.
      if (refusals && error instanceof OciHttpError) {
        const method = request.method ?? 'GET';
        await refusals.record(error, { method, url }).catch(() => undefined);
      }
      respondWithError(response, error);
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host}:${port}`;
  return { url: baseUrl, host: `${host}:${port}`, port, close: () => closeServer(server) };
}

function respondWithError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const ociError =
    error instanceof OciHttpError
      ? error
      : new OciHttpError(500, 'UNKNOWN', 'the registry failed to handle the request');
  sendOciError(response, ociError);
}

// Closing twice is harmless: the second call resolves once the server is down.
function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
