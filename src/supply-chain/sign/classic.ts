import { digestHex, type ImageRef } from '../attest/statement.ts';
import { artifactOf, bytesBlob, jsonBlob } from '../image/artifact.ts';
import {
  MediaType,
  type Blob,
  type Descriptor,
  type ImageManifest,
  type OciArtifact,
} from '../oci/types.ts';
import type { Signer } from '../signer.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { simpleSigningPayload } from './simple-signing.ts';
import { signatureTag } from './tags.ts';

export const SignatureAnnotation = 'dev.cosignproject.cosign/signature';

/** A cosign classic artifact (`.sig` or `.att`) and the tag it is pushed under. */
export interface TaggedArtifact {
  tag: string;
  artifact: OciArtifact;
}

export interface ClassicSignatureOptions {
  image: ImageRef;
  signer: Signer;
  /** `cosign sign -a key=value` annotations, written into the payload's `optional`. */
  annotations?: Record<string, string>;
  /** The `.sig` artifact already in the registry, if any: the new signature is appended to it. */
  existing?: OciArtifact;
}

/**
 * Signs an image the way `cosign sign --key` does without a transparency log: a simple-signing
 * payload as one layer of the `sha256-<hex>.sig` manifest, its signature in the layer's
 * `dev.cosignproject.cosign/signature` annotation. Existing signatures stay.
 */
export async function createClassicSignature(
  options: ClassicSignatureOptions,
): Promise<TaggedArtifact> {
  digestHex(options.image.digest);
  const payload = simpleSigningPayload(
    options.image.repository,
    options.image.digest,
    options.annotations,
  );
  const signature = await options.signer.sign(payload);
  const layer = bytesBlob(MediaType.cosignSimpleSigning, payload, {
    [SignatureAnnotation]: Buffer.from(signature).toString('base64'),
  });

  const artifact = cosignLayersArtifact(
    existingLayers(options.existing, MediaType.cosignSimpleSigning),
    layer,
    options.existing,
  );
  return { tag: signatureTag(options.image.digest), artifact };
}

/**
 * A cosign classic manifest: the given layers plus one new layer, and a config whose
 * `rootfs.diff_ids` lists the layer digests (the layers are stored uncompressed).
 * Blobs hold the new layer, the config and whichever existing layer bytes are at hand.
 */
export function cosignLayersArtifact(
  previous: Descriptor[],
  layer: Blob,
  existing?: OciArtifact,
): OciArtifact {
  const layers = [...previous, layer.descriptor];
  const config = jsonBlob(MediaType.imageConfig, cosignConfig(layers));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    config: config.descriptor,
    layers,
  };
  const kept = (existing?.blobs ?? []).filter((blob) =>
    previous.some((d) => d.digest === blob.descriptor.digest),
  );
  return artifactOf(manifest, [config, ...kept, layer]);
}

/** The layers of an existing cosign manifest, checked to be of the expected media type. */
export function existingLayers(existing: OciArtifact | undefined, mediaType: string): Descriptor[] {
  if (!existing) return [];
  const manifest = existing.manifest as ImageManifest;
  if (
    !Array.isArray(manifest.layers) ||
    manifest.layers.some((layer) => layer.mediaType !== mediaType)
  ) {
    throw new SupplyChainError(
      'SIGNATURE_INVALID',
      `existing cosign manifest ${existing.manifestDigest} has layers other than ${mediaType}`,
    );
  }
  return manifest.layers;
}

// What go-containerregistry writes for an empty image with appended layers, as cosign pushes it.
function cosignConfig(layers: Descriptor[]) {
  const created = '0001-01-01T00:00:00Z';
  return {
    architecture: '',
    created,
    history: layers.map(() => ({ created })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    config: {},
  };
}
