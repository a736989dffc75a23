import type { SecretBroker } from '../domain/secret-broker.ts';
import { isChangeproofError } from '../errors.ts';
import type { RegistryCredentials } from '../supply-chain/oci/auth.ts';
import { RegistryClient, type RegistryClientOptions } from '../supply-chain/oci/client.ts';
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
 * `registry/<host>` (JSON `{username, password}` or `{token}`). No stored secret means anonymous
 * access, as the embedded registry allows on loopback.
 */
export async function registryClientFor(
  target: RegistryTarget,
  broker: SecretBroker,
  leaseId: string,
): Promise<RegistryClient> {
  const auth = await registryCredentials(broker, leaseId, target.host);
  return new RegistryClient({
    registry: target.host,
    insecure: target.insecure,
    ...(auth ? { auth } : {}),
    ...(target.retry ? { retry: target.retry } : {}),
    ...(target.timeoutMs ? { timeoutMs: target.timeoutMs } : {}),
  });
}

async function registryCredentials(
  broker: SecretBroker,
  leaseId: string,
  host: string,
): Promise<RegistryCredentials | undefined> {
  try {
    return JSON.parse(await broker.readSecret(leaseId, `registry/${host}`)) as RegistryCredentials;
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
