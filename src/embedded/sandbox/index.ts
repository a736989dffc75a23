import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { createAdmission } from './admission.ts';
import { timestamp, type SandboxContext } from './context.ts';
import { CustomResourceController } from './crds.ts';
import { lockDataDir } from './data-lock.ts';
import { Journal } from './persistence.ts';
import { ResourceRegistry } from './resources.ts';
import { createRequestHandler } from './server.ts';
import { WorkloadSimulation, type ImagePolicy } from './simulation.ts';
import { ObjectStore } from './store.ts';
import { servingCertificate } from './tls.ts';

export type { ImagePolicy } from './simulation.ts';
export { SandboxLockError } from './data-lock.ts';

/** How to start a sandbox cluster. */
export interface SandboxOptions {
  /** Where its objects persist across restarts (one directory per sandbox). */
  dataDir: string;
  /** Loopback only; defaults to 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The bearer token clients must present (written into the kubeconfig). */
  token: string;
  /** The cluster's name in the kubeconfig; defaults to `sandbox`. */
  name?: string;
  /** Decides whether a workload's images may run; by default every image may. */
  imagePolicy?: ImagePolicy;
  /** How long a rollout takes to become ready; defaults to 300 ms. */
  rolloutDelayMs?: number;
  /**
   * How many recent changes a watch can resume from (10,000 by default); a watch from before
   * them is compacted away and gets 410 Gone.
   */
  watchHistory?: number;
}

/** A running sandbox. */
export interface SandboxCluster {
  /** `https://127.0.0.1:<port>`: kubectl sends bearer tokens over TLS only. */
  url: string;
  port: number;
  /** The sandbox's self-signed certificate (PEM), the CA clients must trust. */
  caCertificatePem: string;
  /** Stops serving, ends open watches and writes the final snapshot. */
  close(): Promise<void>;
  /** Writes a kubeconfig (mode 0600) whose current context is this sandbox. */
  writeKubeconfig(path: string): void;
}

const initialNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Starts a Kubernetes API server on loopback for local mode: kubectl and the project's own
 * Kubernetes client talk to it as to a cluster. Several can run at once, each with its own
 * data directory and port; a data directory serves one sandbox at a time (a second start on it
 * is refused with {@link SandboxLockError}).
 *
 * @example
 * const cluster = await startSandboxCluster({ dataDir: join(workspace, 'clusters/dev'), token });
 * cluster.writeKubeconfig(join(workspace, 'kubeconfig'));
 */
export async function startSandboxCluster(options: SandboxOptions): Promise<SandboxCluster> {
  const lock = lockDataDir(options.dataDir);
  try {
    return await serve(options, lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function serve(options: SandboxOptions, releaseLock: () => void): Promise<SandboxCluster> {
  const host = options.host ?? '127.0.0.1';
  const store = new ObjectStore(new Journal(options.dataDir), options.watchHistory);
  const registry = new ResourceRegistry();
  const watches = new Set<ServerResponse>();
  const context: SandboxContext = { store, registry, admit: createAdmission(store), watches };
  createInitialNamespaces(store);

  const crds = new CustomResourceController(store, registry);
  crds.start();
  const simulation = new WorkloadSimulation(
    store,
    options.imagePolicy ?? (async () => ({ allowed: true })),
    options.rolloutDelayMs ?? 300,
  );
  simulation.start();

  const tls = servingCertificate(options.dataDir, host);
  const server = createServer(
    { key: tls.keyPem, cert: tls.certificatePem, keepAliveTimeout: 30_000 },
    createRequestHandler(context, options.token),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  const name = options.name ?? 'sandbox';

  return {
    url,
    port,
    caCertificatePem: tls.certificatePem,
    writeKubeconfig: (path) =>
      writeKubeconfig(path, {
        name,
        url,
        token: options.token,
        caCertificatePem: tls.certificatePem,
      }),
    close: async () => {
      simulation.stop();
      crds.stop();
      for (const watch of watches) watch.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
      releaseLock();
    },
  };
}

function createInitialNamespaces(store: ObjectStore): void {
  if (store.resourceVersion > 0) return;
  for (const name of initialNamespaces) {
    store.put('/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        uid: randomUUID(),
        creationTimestamp: timestamp(),
        labels: { 'kubernetes.io/metadata.name': name },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
}

/** A kubeconfig with one cluster, one token user and one context, written atomically. */
export function writeKubeconfig(
  path: string,
  cluster: { name: string; url: string; token: string; caCertificatePem: string },
): void {
  const user = `${cluster.name}-admin`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: {
          server: cluster.url,
          'certificate-authority-data': Buffer.from(cluster.caCertificatePem).toString('base64'),
        },
      },
    ],
    users: [{ name: user, user: { token: cluster.token } }],
    contexts: [
      { name: cluster.name, context: { cluster: cluster.name, user, namespace: 'default' } },
    ],
    'current-context': cluster.name,
  };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(config), { mode: 0o600 });
  renameSync(temporary, path);
}
