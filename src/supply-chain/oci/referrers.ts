import type { RegistryClient } from './client.ts';
import { RegistryError } from './errors.ts';
import { apiPath } from './reference.ts';
import { nextLink, refusal, type RegistryTransport } from './transport.ts';
import { MediaType, type Descriptor, type ImageIndex } from './types.ts';

export interface ReferrersOptions {
  /** Only referrers of this artifact type (filtered here when the registry does not). */
  artifactType?: string;
}

/**
 * The tag that stands in for the referrers API on registries without it: `sha256-<hex>` of the
 * subject, holding an image index of its referrers.
 */
export function referrersFallbackTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/**
 * Lists the referrers of `digest` through `GET /v2/<name>/referrers/<digest>`, following
 * `Link` pages; a 404 means the registry has no referrers API, and the fallback tag index is
 * read instead.
 */
export async function listReferrers(
  client: RegistryClient,
  transport: RegistryTransport,
  repository: string,
  digest: string,
  options: ReferrersOptions,
): Promise<Descriptor[]> {
  const query = options.artifactType
    ? `?artifactType=${encodeURIComponent(options.artifactType)}`
    : '';
  const found: Descriptor[] = [];
  let next: string | undefined = `${apiPath(repository, 'referrers', digest)}${query}`;
  let filtered = true;
  while (next) {
    const response = await transport.request('GET', next, {
      repository,
      headers: { Accept: MediaType.imageIndex },
    });
    if (response.status === 404) {
      response.discard();
      return filterByType(await readFallbackIndex(client, repository, digest), options);
    }
    if (!response.ok) throw await refusal(response, `cannot list referrers of ${digest}`);
    filtered &&= (response.headers.get('oci-filters-applied') ?? '').includes('artifactType');
    found.push(...((await response.json()) as ImageIndex).manifests);
    next = nextLink(response.headers.get('link'));
  }
  return filtered ? found : filterByType(found, options);
}

/**
 * Adds `referrer` to the subject's fallback tag index, creating the index when absent. For
 * registries that did not answer a manifest push with `OCI-Subject`.
 */
export async function recordReferrer(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
  referrer: Descriptor,
): Promise<void> {
  const existing = await readFallbackIndex(client, repository, subjectDigest);
  if (existing.some((descriptor) => descriptor.digest === referrer.digest)) return;

  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.imageIndex,
    manifests: [...existing, referrer],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(index));
  const tag = referrersFallbackTag(subjectDigest);
  await client.putManifest(repository, tag, bytes, MediaType.imageIndex);
}

async function readFallbackIndex(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
): Promise<Descriptor[]> {
  try {
    const pulled = await client.getManifest(repository, referrersFallbackTag(subjectDigest));
    return 'manifests' in pulled.manifest ? pulled.manifest.manifests : [];
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'MANIFEST_UNKNOWN') return [];
    throw error;
  }
}

function filterByType(descriptors: Descriptor[], options: ReferrersOptions): Descriptor[] {
  const wanted = options.artifactType;
  return wanted
    ? descriptors.filter((descriptor) => descriptor.artifactType === wanted)
    : descriptors;
}
