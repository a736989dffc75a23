import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import {
  MediaType,
  type Blob,
  type Descriptor,
  type ImageManifest,
  type OciArtifact,
} from '../../src/supply-chain/oci/types.ts';

/**
 * Tiny OCI images for registry tests: one tar+gzip layer holding one file, a minimal config and
 * a manifest. The real reproducible builder lives in src/supply-chain/image; these only need to
 * be valid enough for registries and skopeo.
 */

/** A ustar archive of one regular file (512-byte header, padded data, two zero blocks). */
export function tarOfOneFile(name: string, content: Uint8Array): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);

  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

function blobOf(mediaType: string, bytes: Uint8Array): Blob {
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, bytes };
}

/** An artifact from a manifest document and its blobs. */
export function artifactOf(manifest: ImageManifest, blobs: Blob[]): OciArtifact {
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes), blobs };
}

/**
 * A one-layer image whose file is `content` (random, so incompressible, when a size is given).
 */
export function buildTestImage(content: Uint8Array | number = 64): OciArtifact {
  const data = typeof content === 'number' ? randomBytes(content) : content;
  const tar = tarOfOneFile('app/data.bin', data);
  const layer = blobOf(MediaType.layerTarGzip, gzipSync(tar, { level: 1 }));
  const config = blobOf(
    MediaType.imageConfig,
    new TextEncoder().encode(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/app/data.bin'] },
        rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
      }),
    ),
  );
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    config: config.descriptor,
    layers: [layer.descriptor],
  };
  return artifactOf(manifest, [config, layer]);
}

/** An OCI 1.1 artifact (empty config, one JSON layer) whose subject is `subject`. */
export function buildReferrer(
  subject: Descriptor,
  artifactType: string,
  note: string,
): OciArtifact {
  const empty = blobOf(MediaType.empty, new TextEncoder().encode('{}'));
  const layer = blobOf('application/json', new TextEncoder().encode(JSON.stringify({ note })));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    artifactType,
    config: empty.descriptor,
    layers: [layer.descriptor],
    subject,
    annotations: { 'org.example.note': note },
  };
  return artifactOf(manifest, [empty, layer]);
}

export function subjectOf(artifact: OciArtifact): Descriptor {
  return {
    mediaType: artifact.manifest.mediaType,
    digest: artifact.manifestDigest,
    size: artifact.manifestBytes.length,
  };
}

/** Writes the image as an OCI image layout directory (skopeo's `oci:<dir>:<tag>`). */
export function writeOciLayout(directory: string, artifact: OciArtifact, tag: string): void {
  const blobDir = join(directory, 'blobs', 'sha256');
  mkdirSync(blobDir, { recursive: true });
  writeFileSync(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const blob of artifact.blobs) {
    writeFileSync(join(blobDir, blob.descriptor.digest.slice(7)), blob.bytes);
  }
  writeFileSync(join(blobDir, artifact.manifestDigest.slice(7)), artifact.manifestBytes);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.imageIndex,
    manifests: [
      {
        mediaType: artifact.manifest.mediaType,
        digest: artifact.manifestDigest,
        size: artifact.manifestBytes.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  writeFileSync(join(directory, 'index.json'), JSON.stringify(index));
}
