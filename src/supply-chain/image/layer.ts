import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { sha256Digest } from '../digest.ts';
import { MediaType, type Blob } from '../oci/types.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { gzipReproducible } from './gzip.ts';
import { writeTar, type TarEntry } from './tar.ts';

/** A layer ready to push: the gzip blob and the digest of its uncompressed tar (the diff id). */
export interface Layer {
  blob: Blob;
  diffId: string;
}

export interface DirectoryLayerOptions {
  /** Directory whose content becomes the layer. */
  directory: string;
  /** Absolute path inside the image where the directory's content lands, e.g. `/app`. */
  destination: string;
  /** Top-level names or relative paths to leave out; `.git` by default. */
  exclude?: readonly string[];
  /** Seconds since the epoch written as every entry's mtime (SOURCE_DATE_EPOCH); 0 by default. */
  mtime?: number;
}

/**
 * Builds a reproducible layer from a directory: the same files with the same content and
 * executable bits give the same digest, whatever their mtimes, owners or listing order.
 */
export async function buildDirectoryLayer(options: DirectoryLayerOptions): Promise<Layer> {
  const prefix = normaliseDestination(options.destination);
  const exclude = new Set(options.exclude ?? ['.git']);
  const entries = [
    ...parentDirectories(prefix),
    ...(await collectEntries(options.directory, '', prefix, exclude)),
  ];
  return layerFromEntries(entries, options.mtime ?? 0);
}

/** Tars and gzips the entries; exported for layers assembled in memory. */
export function layerFromEntries(entries: readonly TarEntry[], mtime = 0): Layer {
  for (const entry of entries) assertInsideRoot(entry.path);
  const tar = writeTar(entries, mtime);
  const gzipped = gzipReproducible(tar);
  return {
    blob: {
      descriptor: {
        mediaType: MediaType.layerTarGzip,
        digest: sha256Digest(gzipped),
        size: gzipped.length,
      },
      bytes: gzipped,
    },
    diffId: sha256Digest(tar),
  };
}

async function collectEntries(
  root: string,
  relative: string,
  prefix: string,
  exclude: ReadonlySet<string>,
): Promise<TarEntry[]> {
  const listing = await readdir(join(root, relative)).catch((cause: unknown) => {
    throw new SupplyChainError(
      'SOURCE_UNREADABLE',
      `cannot read build directory ${join(root, relative)}`,
      { cause },
    );
  });
  const entries: TarEntry[] = [];
  for (const name of listing) {
    const childRelative = relative ? `${relative}/${name}` : name;
    if (exclude.has(childRelative)) continue;
    entries.push(...(await entriesFor(root, childRelative, prefix, exclude)));
  }
  return entries;
}

async function entriesFor(
  root: string,
  relative: string,
  prefix: string,
  exclude: ReadonlySet<string>,
): Promise<TarEntry[]> {
  const hostPath = join(root, relative);
  const stats = await lstat(hostPath);
  const path = prefix ? `${prefix}/${relative}` : relative;

  if (stats.isDirectory()) {
    const children = await collectEntries(root, relative, prefix, exclude);
    return [{ type: 'directory', path, mode: 0o755 }, ...children];
  }
  if (stats.isSymbolicLink()) {
    const target = await readlink(hostPath);
    assertSymlinkInsideRoot(relative, target);
    return [{ type: 'symlink', path, target }];
  }
  if (stats.isFile()) {
    // Only the executable bit survives: 0755 or 0644, never the host's umask or group bits.
    const mode = stats.mode & 0o111 ? 0o755 : 0o644;
    return [{ type: 'file', path, mode, content: await readFile(hostPath) }];
  }
  throw new SupplyChainError(
    'UNSUPPORTED_FILE',
    `${relative} is not a file, directory or symlink; remove it from the build directory`,
  );
}

function normaliseDestination(destination: string): string {
  if (!destination.startsWith('/')) {
    throw new SupplyChainError('PATH_ESCAPE', `image destination ${destination} must be absolute`);
  }
  const normalised = posix.normalize(destination).replace(/^\/+|\/+$/g, '');
  if (destination.split('/').includes('..')) {
    throw new SupplyChainError(
      'PATH_ESCAPE',
      `image destination ${destination} must not contain ..`,
    );
  }
  return normalised;
}

function parentDirectories(prefix: string): TarEntry[] {
  if (!prefix) return [];
  const segments = prefix.split('/');
  return segments.map((_, index) => ({
    type: 'directory' as const,
    path: segments.slice(0, index + 1).join('/'),
    mode: 0o755,
  }));
}

function assertInsideRoot(path: string): void {
  const segments = path.split('/');
  if (
    path.startsWith('/') ||
    path === '' ||
    segments.some((s) => s === '..' || s === '.' || s === '')
  ) {
    throw new SupplyChainError(
      'PATH_ESCAPE',
      `layer path ${JSON.stringify(path)} escapes the image root`,
    );
  }
}

/**
 * A relative symlink that climbs out of the build directory points at whatever the host happens
 * to have there; absolute targets are paths inside the image and stay as they are.
 */
function assertSymlinkInsideRoot(relative: string, target: string): void {
  if (target.startsWith('/')) return;
  const resolved = posix.normalize(posix.join(posix.dirname(relative), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new SupplyChainError(
      'PATH_ESCAPE',
      `symlink ${relative} -> ${target} escapes the build directory; point it inside`,
    );
  }
}
