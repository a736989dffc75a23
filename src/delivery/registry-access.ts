import type { SecretBroker } from '../domain/secret-broker.ts';
import { isChangeproofError } from '../errors.ts';
import type { RenewableCredentials } from '../supply-chain/oci/auth.ts';
import { RegistryClient, type RegistryClientOptions } from '../supply-chain/oci/client.ts';
import { parseRegistrySecret } from '../supply-chain/oci/credentials.ts';
import type { ImageManifest, OciArtifact } from '../supply-chain/oci/types.ts';
import { parseImageReference } from '../supply-chain/oci/reference.ts';

/** Where images go: `host[:port]`, plain HTTP or not, and retry settings for tests. */
export interface RegistryTarget {
  host: string;
  insecure: boolean;
  retry?: RegistryClientOptions['retry'];
  timeoutMs?: number;
}

/**
 * A client for `host`, with credentials read through the run's lease from the broker path
 * `registry/<host>`: JSON `{username, password}`, `{token}`, or an ECR authorization token as
 * `aws ecr get-authorization-token` prints it (see {@link parseRegistrySecret}). The secret is
 * read again when an ECR token expires or the registry refuses what was read. No stored secret
 * means anonymous access, as the embedded registry allows on loopback; a malformed one is
 * refused before anything is sent.
 */
export async function registryClientFor(
  target: RegistryTarget,
  broker: SecretBroker,
  leaseId: string,
): Promise<RegistryClient> {
  const auth = await registryAuth(broker, leaseId, target.host);
  return new RegistryClient({
    registry: target.host,
    insecure: target.insecure,
    ...(auth ? { auth } : {}),
    ...(target.retry ? { retry: target.retry } : {}),
    ...(target.timeoutMs ? { timeoutMs: target.timeoutMs } : {}),
  });
}

async function registryAuth(
  broker: SecretBroker,
  leaseId: string,
  host: string,
): Promise<RenewableCredentials | undefined> {
  const path = `registry/${host}`;
  const read = async () => parseRegistrySecret(await broker.readSecret(leaseId, path), host, path);
  try {
    return { initial: await read(), reread: read, source: `broker secret ${path}` };
  } catch (error) {
    if (isChangeproofError(error) && error.code === 'SECRET_MISSING') return undefined;
    throw error;
  }
}

/** A loopback registry speaks plain HTTP (the embedded one); any other host HTTPS. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
}

/** Pulls a single-platform image by reference: manifest, config and layers, digests checked. */
export async function pullImage(client: RegistryClient, reference: string): Promise<OciArtifact> {
  const parsed = parseImageReference(reference);
  const pulled = await client.getManifest(
    parsed.repository,
    parsed.digest ?? parsed.tag ?? 'latest',
  );
  const manifest = pulled.manifest as ImageManifest;
  const descriptors = 'layers' in manifest ? [manifest.config, ...manifest.layers] : [];
  const blobs = await Promise.all(
    descriptors.map(async (descriptor) => ({
      descriptor,
      bytes: await client.pullBlob(parsed.repository, descriptor.digest),
    })),
  );
  return { manifest, manifestBytes: pulled.bytes, manifestDigest: pulled.digest, blobs };
}
