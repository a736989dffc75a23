import { sha256Digest } from '../digest.ts';
import type { Blob, Descriptor, ImageIndex, ImageManifest, OciArtifact } from '../oci/types.ts';

/** A blob of exact bytes with its descriptor. */
export function bytesBlob(
  mediaType: string,
  bytes: Uint8Array,
  annotations?: Record<string, string>,
): Blob {
  const descriptor: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  if (annotations) descriptor.annotations = annotations;
  return { descriptor, bytes };
}

/** A blob holding compact JSON; key order is the value's own, so output is deterministic. */
export function jsonBlob(mediaType: string, value: unknown): Blob {
  return bytesBlob(mediaType, Buffer.from(JSON.stringify(value)));
}

/** Serialises the manifest once; its digest is the digest of exactly these bytes. */
export function artifactOf(manifest: ImageManifest | ImageIndex, blobs: Blob[]): OciArtifact {
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes), blobs };
}

/** The descriptor of an artifact's manifest, e.g. for a `subject` or an index entry. */
export function manifestDescriptor(artifact: OciArtifact): Descriptor {
  const descriptor: Descriptor = {
    mediaType: artifact.manifest.mediaType,
    digest: artifact.manifestDigest,
    size: artifact.manifestBytes.length,
  };
  if (artifact.manifest.artifactType) descriptor.artifactType = artifact.manifest.artifactType;
  return descriptor;
}

/** Finds a blob of the artifact by digest. */
export function findBlob(artifact: OciArtifact, digest: string): Blob | undefined {
  return artifact.blobs.find((blob) => blob.descriptor.digest === digest);
}
