import { MediaType, type ImageManifest, type OciArtifact } from '../oci/types.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { artifactOf, jsonBlob } from './artifact.ts';
import { loadBaseImage, type BaseImage, type PullImage } from './base-image.ts';
import {
  RevisionLabel,
  SourceLabel,
  epochToTime,
  mergeContainerConfig,
  type ImageConfig,
  type RuntimeSettings,
} from './config.ts';
import { buildDirectoryLayer } from './layer.ts';
import { assertImmutableTag } from './tag.ts';

export interface BuildImageOptions extends RuntimeSettings {
  /** Directory whose content becomes the image's top layer. */
  contextDir: string;
  /** Where that content lands in the image; `/app` by default. */
  destination?: string;
  /** Relative paths of the context to leave out; `.git` by default. */
  exclude?: readonly string[];
  /** The tag to push under: the full source commit SHA when `source` is given. */
  tag: string;
  /** Source repository URL and commit, written as the OCI source and revision labels. */
  source?: { repository: string; commit: string };
  /** Base image reference and the function that pulls it; none builds from scratch. */
  base?: { reference: string; pull: PullImage };
  architecture?: string;
  os?: string;
  /** SOURCE_DATE_EPOCH: every mtime and `created` time; 0 by default. */
  sourceDateEpoch?: number;
}

/** A built image, in memory, ready to push. */
export interface BuiltImage {
  artifact: OciArtifact;
  config: ImageConfig;
  tag: string;
  /** The manifest digest: what the image is pinned and signed by. */
  digest: string;
}

/**
 * Builds an OCI image without a daemon: the base image's layers, then one reproducible layer
 * from the context directory, a config carrying the runtime settings and source labels, and a
 * manifest. The same inputs give the same digest on any host.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  assertImmutableTag(options.tag, options.source?.commit);
  const epoch = options.sourceDateEpoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new SupplyChainError(
      'OPTION_INVALID',
      `SOURCE_DATE_EPOCH ${epoch} must be a non-negative integer`,
    );
  }

  const base = options.base
    ? await loadBaseImage(options.base.reference, options.base.pull)
    : undefined;
  const destination = options.destination ?? '/app';
  const layer = await buildDirectoryLayer({
    directory: options.contextDir,
    destination,
    exclude: options.exclude ?? ['.git'],
    mtime: epoch,
  });

  const config = imageConfig(options, base, layer.diffId, epoch, destination);
  const configBlob = jsonBlob(MediaType.imageConfig, config);
  const layers = [...(base?.layers ?? []), layer.blob];
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    config: configBlob.descriptor,
    layers: layers.map((blob) => blob.descriptor),
    annotations: manifestAnnotations(options, base, epoch),
  };
  const artifact = artifactOf(manifest, [configBlob, ...layers]);
  return { artifact, config, tag: options.tag, digest: artifact.manifestDigest };
}

function imageConfig(
  options: BuildImageOptions,
  base: BaseImage | undefined,
  diffId: string,
  epoch: number,
  destination: string,
): ImageConfig {
  const architecture = options.architecture ?? base?.config.architecture ?? 'amd64';
  const os = options.os ?? base?.config.os ?? 'linux';
  if (base && (base.config.architecture !== architecture || base.config.os !== os)) {
    throw new SupplyChainError(
      'BASE_UNSUPPORTED',
      `base image ${base.reference} is ${base.config.os}/${base.config.architecture}, not ${os}/${architecture}`,
    );
  }

  const labels = { ...options.labels, ...sourceLabels(options) };
  const created = epochToTime(epoch);
  const config: ImageConfig = {
    created,
    architecture,
    os,
    config: mergeContainerConfig(base?.config.config, { ...options, labels }),
    rootfs: { type: 'layers', diff_ids: [...(base?.config.rootfs.diff_ids ?? []), diffId] },
    history: [
      ...(base?.config.history ?? []),
      // The host path of the context stays out: it differs between checkouts of the same commit.
      { created, created_by: `changeproof build: copy context to ${destination}` },
    ],
  };
  if (base?.config.variant) config.variant = base.config.variant;
  return config;
}

function sourceLabels(options: BuildImageOptions): Record<string, string> {
  if (!options.source) return {};
  return { [SourceLabel]: options.source.repository, [RevisionLabel]: options.source.commit };
}

function manifestAnnotations(
  options: BuildImageOptions,
  base: BaseImage | undefined,
  epoch: number,
): Record<string, string> {
  const annotations: Record<string, string> = {
    'org.opencontainers.image.created': epochToTime(epoch),
    ...sourceLabels(options),
  };
  if (base) {
    annotations['org.opencontainers.image.base.name'] = base.reference;
    annotations['org.opencontainers.image.base.digest'] = base.digest;
  }
  return annotations;
}
