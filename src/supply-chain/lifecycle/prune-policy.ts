import type { StoredManifest } from '../../embedded/registry/maintenance.ts';
import { MediaType } from '../oci/types.ts';

/** How long images live in the registry. */
export interface PrunePolicy {
  /** Tagged images pushed longer ago than this expire (beyond the newest `keep`). */
  maxAgeMs: number;
  /** The newest tagged images of each repository that stay whatever their age. */
  keep: number;
  /** Untagged manifests younger than this stay: a push may tag a manifest just after writing it. */
  untaggedGraceMs: number;
}

/** A production deployment that pins an image, inside the evidence retention period. */
export interface ProtectedImage {
  digest: string;
  deployment: string;
  at: string;
}

export interface PruneDecision {
  repository: string;
  digest: string;
  tags: string[];
  pushedAt: string;
  action: 'delete' | 'keep';
  reason: string;
}

// `sha256-<hex>`, `.sig`, `.att`, `.sbom`: cosign's and the referrers fallback's tags for an image.
const attachmentTag = /^sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?$/;

/**
 * Decides, manifest by manifest, what `registry prune` deletes. Images pinned by a production
 * deployment inside the retention period always stay. Otherwise untagged images expire after
 * the grace period, and tagged ones once older than `maxAgeMs` unless among the `keep` newest.
 * Signatures, attestations, SBOMs and referrers follow the image they are about. Pure: the
 * caller lists the manifests and applies the decisions.
 */
export function planPrune(
  manifests: readonly StoredManifest[],
  protectedImages: readonly ProtectedImage[],
  policy: PrunePolicy,
  now: Date,
): PruneDecision[] {
  const protectedBy = new Map(protectedImages.map((image) => [image.digest, image]));
  const images = manifests.filter((manifest) => subjectOf(manifest) === undefined);
  const imageDecisions = new Map<string, PruneDecision>();
  for (const repository of new Set(images.map((m) => m.repository))) {
    const ofRepository = images.filter((m) => m.repository === repository);
    for (const decision of decideImages(ofRepository, protectedBy, policy, now)) {
      imageDecisions.set(`${repository}@${decision.digest}`, decision);
    }
  }
  return manifests.map((manifest) => {
    const key = `${manifest.repository}@${manifest.digest}`;
    return imageDecisions.get(key) ?? decideAttachment(manifest, imageDecisions);
  });
}

function decideImages(
  manifests: StoredManifest[],
  protectedBy: Map<string, ProtectedImage>,
  policy: PrunePolicy,
  now: Date,
): PruneDecision[] {
  const newestTagged = manifests
    .filter((m) => m.tags.length > 0)
    .sort((a, b) => b.pushedAt.localeCompare(a.pushedAt))
    .slice(0, policy.keep)
    .map((m) => m.digest);
  // A kept index needs its platform manifests, which are untagged; keep those while any index is.
  const hasIndex = manifests.some((m) => isIndex(m) && m.tags.length > 0);
  const age = (m: StoredManifest) => now.getTime() - Date.parse(m.pushedAt);

  return manifests.map((manifest) => {
    const decide = (action: PruneDecision['action'], reason: string): PruneDecision => ({
      repository: manifest.repository,
      digest: manifest.digest,
      tags: manifest.tags,
      pushedAt: manifest.pushedAt,
      action,
      reason,
    });
    const deployment = protectedBy.get(manifest.digest);
    if (deployment) {
      return decide('keep', `production deployment ${deployment.deployment} at ${deployment.at}`);
    }
    if (manifest.tags.length === 0) {
      if (hasIndex) return decide('keep', 'may be a platform of a tagged index');
      return age(manifest) > policy.untaggedGraceMs
        ? decide('delete', 'untagged')
        : decide('keep', 'untagged, within the grace period');
    }
    if (newestTagged.includes(manifest.digest))
      return decide('keep', `among the ${policy.keep} newest`);
    return age(manifest) > policy.maxAgeMs
      ? decide('delete', `older than ${Math.round(policy.maxAgeMs / 86_400_000)}d`)
      : decide('keep', 'recent');
  });
}

/** A signature, attestation, SBOM or referrer goes when its image goes, and stays while it stays. */
function decideAttachment(
  manifest: StoredManifest,
  images: Map<string, PruneDecision>,
): PruneDecision {
  const subject = subjectOf(manifest)!;
  const image = images.get(`${manifest.repository}@${subject}`);
  const base = {
    repository: manifest.repository,
    digest: manifest.digest,
    tags: manifest.tags,
    pushedAt: manifest.pushedAt,
  };
  if (!image) return { ...base, action: 'delete', reason: `its image ${subject} is gone` };
  return image.action === 'keep'
    ? { ...base, action: 'keep', reason: `its image ${subject} stays` }
    : { ...base, action: 'delete', reason: `its image ${subject} expires` };
}

/** The image a manifest is about: its `subject`, or the digest named by a cosign-style tag. */
function subjectOf(manifest: StoredManifest): string | undefined {
  if (manifest.subject) return manifest.subject;
  const tags = manifest.tags.map((tag) => attachmentTag.exec(tag));
  if (tags.length === 0 || tags.some((match) => match === null)) return undefined;
  return `sha256:${tags[0]![1]}`;
}

function isIndex(manifest: StoredManifest): boolean {
  return (
    manifest.mediaType === MediaType.imageIndex ||
    manifest.mediaType === MediaType.dockerManifestList
  );
}
