import { sha256Hex } from '../digest.ts';
import type { ImageManifest, OciArtifact } from '../oci/types.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { findBlob } from './artifact.ts';
import { gunzipIfCompressed } from './gzip.ts';
import { readTar } from './tar-reader.ts';

/** A regular file of an image's final file system. */
export interface ImageFile {
  /** Absolute path inside the image. */
  path: string;
  sha256: string;
  size: number;
  mode: number;
  content: Buffer;
}

/**
 * The regular files of an image after applying its layers in order, with OCI whiteouts
 * (`.wh.<name>` deletes a path, `.wh..wh..opq` empties a directory) honoured.
 */
export function listImageFiles(image: OciArtifact): ImageFile[] {
  const manifest = image.manifest as ImageManifest;
  if (!Array.isArray(manifest.layers)) {
    throw new SupplyChainError(
      'LAYER_INVALID',
      'image is an index; list the files of one platform manifest',
    );
  }

  const files = new Map<string, ImageFile>();
  for (const descriptor of manifest.layers) {
    const blob = findBlob(image, descriptor.digest);
    if (!blob)
      throw new SupplyChainError('LAYER_INVALID', `image lacks layer blob ${descriptor.digest}`);
    applyLayer(files, gunzipIfCompressed(blob.bytes));
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function applyLayer(files: Map<string, ImageFile>, tar: Buffer): void {
  for (const entry of readTar(tar)) {
    const path = `/${entry.path}`;
    const name = path.slice(path.lastIndexOf('/') + 1);
    const directory = path.slice(0, path.lastIndexOf('/'));

    if (name === '.wh..wh..opq') {
      removeUnder(files, directory);
    } else if (name.startsWith('.wh.')) {
      const removed = `${directory}/${name.slice(4)}`;
      files.delete(removed);
      removeUnder(files, removed);
    } else if (entry.type === 'file') {
      files.set(path, {
        path,
        sha256: sha256Hex(entry.content),
        size: entry.content.length,
        mode: entry.mode,
        content: entry.content,
      });
    } else {
      // A directory, link or device replaces a file of the same path.
      files.delete(path);
    }
  }
}

function removeUnder(files: Map<string, ImageFile>, directory: string): void {
  for (const path of files.keys()) if (path.startsWith(`${directory}/`)) files.delete(path);
}
