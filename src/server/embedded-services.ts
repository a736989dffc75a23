import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startRegistry, type RunningRegistry } from '../embedded/registry/index.ts';
import {
  startSandboxCluster,
  type ImagePolicy,
  type SandboxCluster,
} from '../embedded/sandbox/index.ts';
import {
  defaultRegistryClients,
  defaultRequiredPredicates,
  ImageVerifier,
  type ImageTrustPolicy,
  type RegistryClientFactory,
} from '../reconcile/image-verification.ts';
import { parseImageReference } from '../supply-chain/oci/reference.ts';
import { messageOf } from '../errors.ts';
import type { WorkspaceContext } from '../workspace/context.ts';

/** The local-mode OCI registry, on the port fixed at init (image references embed it). */
export async function startWorkspaceRegistry(ws: WorkspaceContext): Promise<RunningRegistry> {
  return startRegistry({
    dataDir: ws.paths.registryDir,
    port: ws.config.registry.port,
    ledger: ws.ledger,
  });
}

export interface RunningSandboxes {
  clusters: Map<string, SandboxCluster>;
  close(): Promise<void>;
}

/**
 * One sandbox API server per cluster of type `sandbox`, each with its own data folder, and one
 * kubeconfig in the workspace with a context per cluster (named after it). Workloads become
 * ready only with images the workspace's pipeline signed, unless another policy is passed.
 */
export async function startWorkspaceSandboxes(
  ws: WorkspaceContext,
  policy?: ImagePolicy,
): Promise<RunningSandboxes> {
  const imagePolicy = policy ?? (await workspaceImagePolicy(ws));
  const token = sandboxToken(ws);
  const clusters = new Map<string, SandboxCluster>();
  const close = async () => {
    for (const cluster of clusters.values()) await cluster.close().catch(() => undefined);
  };
  try {
    for (const [name, cluster] of Object.entries(ws.config.clusters)) {
      if (cluster.type !== 'sandbox') continue;
      const dataDir = join(ws.paths.sandboxDir, name);
      clusters.set(name, await startSandboxCluster({ dataDir, token, name, imagePolicy }));
    }
  } catch (error) {
    await close();
    throw error;
  }
  if (clusters.size > 0) writeMultiClusterKubeconfig(ws.paths.kubeconfig, clusters, token);
  return { clusters, close };
}

/**
 * A workload's image may run only when it is pinned by digest and the registry holds it: what
 * a real node would fail to pull never becomes ready in the sandbox either. Presence only; the
 * policy `changeproof up` uses is {@link trustedImagePolicy}, which also checks the signature.
 */
export function registryImagePolicy(
  clients: RegistryClientFactory = defaultRegistryClients,
): ImagePolicy {
  return async (image) => {
    try {
      const reference = parseImageReference(image);
      if (!reference.digest) return { allowed: false, reason: `${image} is not pinned by digest` };
      await clients(reference.registry).getManifest(reference.repository, reference.digest);
      return { allowed: true };
    } catch (error) {
      return { allowed: false, reason: `cannot pull ${image}: ${messageOf(error)}` };
    }
  };
}

/**
 * The sandbox's admission of images as a cluster running the generated admission policy would
 * have it: pullable from the registry, and signed by a pipeline key with the required
 * attestations (the CD plane's own {@link ImageVerifier}). An unsigned image never becomes
 * ready, even when someone puts it in the cluster by hand.
 */
export function trustedImagePolicy(
  trust: ImageTrustPolicy,
  clients: RegistryClientFactory = defaultRegistryClients,
): ImagePolicy {
  const pullable = registryImagePolicy(clients);
  const verifier = new ImageVerifier(trust, clients);
  return async (image) => {
    const pulled = await pullable(image);
    if (!pulled.allowed) return pulled;
    const verdict = await verifier.verify(image);
    return verdict.trusted ? { allowed: true } : { allowed: false, reason: verdict.reason };
  };
}

/** {@link trustedImagePolicy} with the workspace's pipeline key: the policy `up` runs. */
export async function workspaceImagePolicy(ws: WorkspaceContext): Promise<ImagePolicy> {
  return trustedImagePolicy({
    publicKeys: [await ws.broker.publicKey('pipeline')],
    requiredPredicates: defaultRequiredPredicates,
  });
}

/** The sandboxes' bearer token, kept in the workspace (0600) so kubeconfigs survive restarts. */
function sandboxToken(ws: WorkspaceContext): string {
  const file = join(ws.paths.keysDir, 'sandbox.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function writeMultiClusterKubeconfig(
  path: string,
  clusters: Map<string, SandboxCluster>,
  token: string,
): void {
  const names = [...clusters.keys()];
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: names.map((name) => ({
      name,
      cluster: {
        server: clusters.get(name)!.url,
        'certificate-authority-data': Buffer.from(clusters.get(name)!.caCertificatePem).toString(
          'base64',
        ),
      },
    })),
    users: [{ name: 'sandbox-admin', user: { token } }],
    contexts: names.map((name) => ({
      name,
      context: { cluster: name, user: 'sandbox-admin', namespace: 'default' },
    })),
    'current-context': names[names.length - 1],
  };
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(`${path}.partial`, stringify(config), { mode: 0o600 });
  renameSync(`${path}.partial`, path);
}
