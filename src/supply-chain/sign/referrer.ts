import { digestHex } from '../attest/statement.ts';
import { artifactOf, bytesBlob, manifestDescriptor } from '../image/artifact.ts';
import {
  MediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type OciArtifact,
} from '../oci/types.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import type { SigstoreBundle } from './bundle.ts';
import { CosignSignPredicateType } from './bundle.ts';
import { referrersFallbackTag } from './tags.ts';
import type { TaggedArtifact } from './classic.ts';

/** The OCI empty descriptor: `{}`, two bytes, used as config of artifacts that need none. */
export const EmptyConfig: Descriptor = {
  mediaType: MediaType.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};

export interface ReferrerOptions {
  bundle: SigstoreBundle;
  /** The descriptor of the signed image manifest. */
  subject: Descriptor;
  predicateType?: string;
  /** RFC 3339 creation time for `org.opencontainers.image.created`; omitted when not given. */
  created?: string;
}

/**
 * The bundle as an OCI 1.1 referrer (cosign's bundle spec): artifactType the bundle media type,
 * the empty config, one layer of bundle JSON, `subject` the image, and annotations saying what
 * the bundle holds. Push it by digest; registries with the referrers API index it by subject.
 */
export function bundleReferrer(options: ReferrerOptions): OciArtifact {
  const bundleBytes = Buffer.from(JSON.stringify(options.bundle));
  const layer = bytesBlob(MediaType.sigstoreBundle, bundleBytes);
  const hex = layer.descriptor.digest.slice('sha256:'.length);
  layer.descriptor.annotations = {
    'org.opencontainers.image.title': `sha256-${hex}.sigstore.json`,
  };

  const annotations: Record<string, string> = {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': options.predicateType ?? CosignSignPredicateType,
  };
  if (options.created) annotations['org.opencontainers.image.created'] = options.created;

  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    artifactType: MediaType.sigstoreBundle,
    config: EmptyConfig,
    layers: [layer.descriptor],
    subject: subjectDescriptor(options.subject),
    annotations,
  };
  const emptyConfig = bytesBlob(MediaType.empty, Buffer.from('{}'));
  return artifactOf(manifest, [emptyConfig, layer]);
}

/**
 * The referrers tag schema fallback: an image index under `sha256-<hex>` listing the referrers
 * of the image, for registries whose referrers API answers 404. An existing index is extended,
 * never replaced, and a referrer already listed is not listed twice.
 */
export function referrersFallbackIndex(
  imageDigest: string,
  referrer: OciArtifact,
  existing?: OciArtifact,
): TaggedArtifact {
  digestHex(imageDigest);
  const previous = existing ? (existing.manifest as ImageIndex).manifests : [];
  if (!Array.isArray(previous)) {
    throw new SupplyChainError(
      'SIGNATURE_INVALID',
      `existing referrers index ${existing?.manifestDigest} is not an image index`,
    );
  }
  const entry = manifestDescriptor(referrer);
  if (referrer.manifest.annotations) entry.annotations = referrer.manifest.annotations;
  const manifests = previous.some((d) => d.digest === entry.digest)
    ? previous
    : [...previous, entry];
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.imageIndex, manifests };
  return { tag: referrersFallbackTag(imageDigest), artifact: artifactOf(index, []) };
}

function subjectDescriptor(subject: Descriptor): Descriptor {
  return { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
}
