import type { StoredManifest } from '../../embedded/registry/maintenance.ts';
import { evidenceOf } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { RegistryClient } from '../oci/client.ts';
import { RegistryError } from '../oci/errors.ts';
import { parseImageReference } from '../oci/reference.ts';
import type { Descriptor, ImageManifest } from '../oci/types.ts';

// The `sha256-<hex>` referrers fallback index, and cosign's `.sig`/`.att`/`.sbom` tags.
const fallbackIndexTag = /^sha256-([a-f0-9]{64})$/;

/** What changeproof itself pushed to one registry, by repository: digest and push time. */
export type PushedImages = Map<string, Map<string, string>>;

/**
 * The images the ledger says changeproof delivered to `registry` (`delivery.completed`), with
 * when. The distribution API lists tags only, so this is how an image whose tag moved on, or
 * that was pushed by digest, is found again to be pruned.
 */
export async function deliveredImages(ledger: Ledger, registry: string): Promise<PushedImages> {
  const pushed: PushedImages = new Map();
  for (const entry of await ledger.list({ kind: 'delivery.completed' })) {
    const delivery = evidenceOf(entry, 'delivery.completed');
    if (!delivery) continue;
    const reference = parseImageReference(delivery.image);
    if (reference.registry !== registry || !reference.digest) continue;
    const ofRepository = pushed.get(reference.repository) ?? new Map<string, string>();
    ofRepository.set(reference.digest, entry.time);
    pushed.set(reference.repository, ofRepository);
  }
  return pushed;
}

/**
 * Lists one repository of a registry the way {@link planPrune} expects the embedded storage to:
 * every tag resolved to its digest, the images the ledger knows were pushed there even when no
 * tag names them any more, and the referrers the `sha256-<hex>` fallback indexes list. An
 * image's age is the later of its config's `created` and its delivery time in the ledger (a
 * reproducible build may set `created` to the epoch); with neither it counts as new.
 */
export async function listRemoteManifests(
  client: RegistryClient,
  repository: string,
  pushed: Map<string, string>,
  now: Date,
): Promise<StoredManifest[]> {
  const byDigest = new Map<string, StoredManifest>();
  const listed = new Map<string, Descriptor[]>();
  const read = (reference: string) =>
    readManifest(client, repository, reference, { pushed, now, listed });
  for (const tag of await client.listTags(repository)) {
    const manifest = await read(tag);
    if (!manifest) continue; // untagged between the listing and the read
    const known = byDigest.get(manifest.digest);
    if (known) known.tags.push(tag);
    else byDigest.set(manifest.digest, { ...manifest, tags: [tag] });
  }
  for (const digest of pushed.keys()) {
    if (byDigest.has(digest)) continue;
    const manifest = await read(digest);
    if (manifest) byDigest.set(digest, manifest);
  }
  for (const index of [...byDigest.values()]) {
    const subject = subjectOfFallbackIndex(index);
    if (subject) addReferrers(index, subject, listed.get(index.digest) ?? [], byDigest);
  }
  return [...byDigest.values()];
}

async function readManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  seen: { pushed: Map<string, string>; now: Date; listed: Map<string, Descriptor[]> },
): Promise<StoredManifest | undefined> {
  let pulled;
  try {
    pulled = await client.getManifest(repository, reference);
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'MANIFEST_UNKNOWN') return undefined;
    throw error;
  }
  const manifest = pulled.manifest;
  if ('manifests' in manifest) seen.listed.set(pulled.digest, manifest.manifests);
  const created = 'config' in manifest ? await createdOf(client, repository, manifest) : undefined;
  const times = [created, seen.pushed.get(pulled.digest)].filter((t) => t && !isNaN(Date.parse(t)));
  const pushedAt = times.length
    ? new Date(Math.max(...times.map((t) => Date.parse(t!)))).toISOString()
    : seen.now.toISOString();
  return {
    repository,
    digest: pulled.digest,
    mediaType: pulled.mediaType,
    size: pulled.bytes.length,
    pushedAt,
    tags: [],
    ...(manifest.subject ? { subject: manifest.subject.digest } : {}),
    ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
  };
}

/** The image config's `created`, when the config is a JSON document that has one. */
async function createdOf(
  client: RegistryClient,
  repository: string,
  manifest: ImageManifest,
): Promise<string | undefined> {
  if (manifest.config.size > 1_000_000) return undefined;
  const bytes = await client.pullBlob(repository, manifest.config.digest);
  try {
    const created = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { created?: unknown })
      .created;
    return typeof created === 'string' ? created : undefined;
  } catch {
    return undefined; // an artifact's config need not be JSON
  }
}

function subjectOfFallbackIndex(manifest: StoredManifest): string | undefined {
  const match = manifest.tags.map((tag) => fallbackIndexTag.exec(tag)).find(Boolean);
  return match ? `sha256:${match[1]}` : undefined;
}

/** The referrers a fallback index lists, untagged, each following its subject. */
function addReferrers(
  index: StoredManifest,
  subject: string,
  referrers: Descriptor[],
  byDigest: Map<string, StoredManifest>,
): void {
  for (const referrer of referrers) {
    if (byDigest.has(referrer.digest)) continue;
    byDigest.set(referrer.digest, {
      repository: index.repository,
      digest: referrer.digest,
      mediaType: referrer.mediaType,
      size: referrer.size,
      pushedAt: index.pushedAt,
      tags: [],
      subject,
    });
  }
}
