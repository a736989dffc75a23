import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciArtifact } from '../oci/types.ts';
import { manifestDescriptor } from './artifact.ts';

/**
 * Writes artifacts as an OCI image layout directory (`oci-layout`, `index.json`,
 * `blobs/sha256/…`), readable by skopeo, umoci and crane. `tag` becomes the
 * `org.opencontainers.image.ref.name` annotation of the image's index entry.
 */
export async function writeOciLayout(
  directory: string,
  artifact: OciArtifact,
  tag?: string,
): Promise<void> {
  const blobDirectory = join(directory, 'blobs', 'sha256');
  await mkdir(blobDirectory, { recursive: true });

  const blobs = [
    ...artifact.blobs.map((blob) => ({ digest: blob.descriptor.digest, bytes: blob.bytes })),
    { digest: artifact.manifestDigest, bytes: artifact.manifestBytes },
  ];
  for (const blob of blobs)
    await writeFile(join(blobDirectory, blob.digest.slice('sha256:'.length)), blob.bytes);

  const entry = manifestDescriptor(artifact);
  if (tag) entry.annotations = { 'org.opencontainers.image.ref.name': tag };
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [entry],
  };
  await writeFile(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(directory, 'index.json'), JSON.stringify(index));
}
