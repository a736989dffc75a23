import { resolve } from 'node:path';
import type { ServiceConfig } from '../../config/schema.ts';
import { buildImage } from '../../supply-chain/image/build.ts';
import type { RegistryClient } from '../../supply-chain/oci/client.ts';
import { parseImageReference } from '../../supply-chain/oci/reference.ts';
import type { OciArtifact } from '../../supply-chain/oci/types.ts';
import { DeliveryError } from '../errors.ts';
import type { StepOutcome } from '../run.ts';
import type { SourceState } from '../source.ts';
import { pullImage } from '../registry-access.ts';

/** The image a run delivers, whether built here or taken from `--image`. */
export interface DeliveredImage {
  artifact: OciArtifact;
  digest: string;
  /** The tag it is pushed under: the full source commit SHA. */
  tag: string;
  baseImage?: { reference: string; digest: string };
}

/**
 * Builds the service's image daemonlessly from its configured context, tagged with the full
 * source commit SHA and labelled with the source and revision. A base image is pulled through
 * `pullClient` for its registry.
 */
export async function runBuildStep(options: {
  source: SourceState;
  settings: ServiceConfig;
  allowDirty: boolean;
  pullClient: (reference: string) => Promise<RegistryClient>;
}): Promise<StepOutcome<DeliveredImage>> {
  const build = options.settings.build ?? { context: '.' };
  const contextDir = resolve(options.source.dir, build.context);
  const baseReference = build.baseImage;
  const built = await buildImage({
    contextDir,
    tag: options.source.commit,
    source: {
      repository: options.settings.sourceRepo ?? options.source.repository,
      commit: options.source.commit,
    },
    ...(baseReference
      ? {
          base: {
            reference: baseReference,
            pull: async (ref: string) => pullImage(await options.pullClient(ref), ref),
          },
        }
      : {}),
    ...(build.entrypoint ? { entrypoint: build.entrypoint } : {}),
    ...(build.cmd ? { cmd: build.cmd } : {}),
    ...(build.env ? { env: build.env } : {}),
    ...(build.workingDir ? { workingDir: build.workingDir } : {}),
  });
  const annotations = (built.artifact.manifest.annotations ?? {}) as Record<string, string>;
  const baseDigest = annotations['org.opencontainers.image.base.digest'];
  const size = built.artifact.blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);
  return {
    value: {
      artifact: built.artifact,
      digest: built.digest,
      tag: built.tag,
      ...(baseReference && baseDigest
        ? { baseImage: { reference: baseReference, digest: baseDigest } }
        : {}),
    },
    outputs: {
      digest: built.digest,
      tag: built.tag,
      layers: built.artifact.blobs.length - 1,
      bytes: size,
      labels: built.config.config?.Labels ?? {},
    },
    detail: `${built.digest.slice(0, 19)}… ${(size / 1e6).toFixed(1)} MB`,
  };
}

/**
 * Takes an image built elsewhere (`--image ref@sha256:…`): pulled by digest, so what is scanned,
 * signed and proposed is exactly that digest. It is pushed again under the source commit tag.
 */
export async function loadPrebuiltImage(
  reference: string,
  commit: string,
  client: (reference: string) => Promise<RegistryClient>,
): Promise<DeliveredImage> {
  const parsed = parseImageReference(reference);
  if (!parsed.digest) {
    throw new DeliveryError(
      'IMAGE_REFERENCE_INVALID',
      `--image ${reference} has no digest; pass ref@sha256:<hex>`,
    );
  }
  const artifact = await pullImage(await client(reference), reference);
  return { artifact, digest: artifact.manifestDigest, tag: commit };
}
