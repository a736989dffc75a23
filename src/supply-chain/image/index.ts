export { artifactOf, bytesBlob, findBlob, jsonBlob, manifestDescriptor } from './artifact.ts';
export { loadBaseImage, type BaseImage, type PullImage } from './base-image.ts';
export { buildImage, type BuildImageOptions, type BuiltImage } from './build.ts';
export { RevisionLabel, SourceLabel, type ImageConfig, type RuntimeSettings } from './config.ts';
export { buildDirectoryLayer, layerFromEntries, type Layer } from './layer.ts';
export { listImageFiles, type ImageFile } from './image-files.ts';
export { writeOciLayout } from './oci-layout.ts';
export { assertImmutableTag, isCommitSha } from './tag.ts';
