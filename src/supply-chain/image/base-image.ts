import { MediaType, type Blob, type ImageManifest, type OciArtifact } from '../oci/types.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { findBlob } from './artifact.ts';
import type { ImageConfig } from './config.ts';

/** Fetches an image (manifest, config and layer blobs) from a registry; passed in by the caller. */
export type PullImage = (reference: string) => Promise<OciArtifact>;

/** A base image as the build uses it: its config and its layer blobs, in order. */
export interface BaseImage {
  reference: string;
  digest: string;
  config: ImageConfig;
  layers: Blob[];
}

const dockerToOci: Record<string, string> = {
  [MediaType.dockerLayer]: MediaType.layerTarGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.layerTar,
};

/**
 * Pulls the base image and checks it is a single-platform image whose blobs are all there.
 * Docker schema 2 layers keep their bytes and take the equivalent OCI media type.
 */
export async function loadBaseImage(reference: string, pull: PullImage): Promise<BaseImage> {
  const artifact = await pull(reference);
  const manifest = artifact.manifest;
  if (!('layers' in manifest)) {
    throw new SupplyChainError(
      'BASE_UNSUPPORTED',
      `base image ${reference} is an index; pull the manifest of one platform`,
    );
  }

  const config = parseConfig(reference, artifact, manifest);
  const layers = manifest.layers.map((descriptor) => {
    const blob = findBlob(artifact, descriptor.digest);
    if (!blob) {
      throw new SupplyChainError(
        'BASE_UNSUPPORTED',
        `base image ${reference} lacks layer ${descriptor.digest}`,
      );
    }
    const mediaType = dockerToOci[descriptor.mediaType] ?? descriptor.mediaType;
    return {
      descriptor: { mediaType, digest: descriptor.digest, size: descriptor.size },
      bytes: blob.bytes,
    };
  });
  if (layers.length !== config.rootfs.diff_ids.length) {
    throw new SupplyChainError(
      'BASE_UNSUPPORTED',
      `base image ${reference} has layers and diff_ids that disagree`,
    );
  }
  return { reference, digest: artifact.manifestDigest, config, layers };
}

function parseConfig(
  reference: string,
  artifact: OciArtifact,
  manifest: ImageManifest,
): ImageConfig {
  const blob = findBlob(artifact, manifest.config.digest);
  if (!blob) {
    throw new SupplyChainError('BASE_UNSUPPORTED', `base image ${reference} lacks its config blob`);
  }
  try {
    const config = JSON.parse(Buffer.from(blob.bytes).toString('utf8')) as ImageConfig;
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids))
      throw new Error('no rootfs.diff_ids');
    return config;
  } catch (cause) {
    throw new SupplyChainError(
      'BASE_UNSUPPORTED',
      `base image ${reference} has an unreadable config`,
      { cause },
    );
  }
}
