import { SupplyChainError } from '../supply-chain-error.ts';

/** An entry read back from a layer tar. Paths are normalised: no leading `./` or `/`. */
export interface ReadTarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  /** File content; empty for anything but regular files. */
  content: Buffer;
  /** Target of a symlink or hard link. */
  linkTarget?: string;
}

const blockSize = 512;

/**
 * Reads a tar archive (ustar, pax `x` headers, GNU long names), as written by changeproof,
 * docker, buildkit or kaniko, so that the SBOM sees the files of any image.
 */
export function readTar(archive: Uint8Array): ReadTarEntry[] {
  const data = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: ReadTarEntry[] = [];
  let pending: { path?: string; linkpath?: string; size?: number } = {};

  for (let offset = 0; offset + blockSize <= data.length;) {
    const block = data.subarray(offset, offset + blockSize);
    if (block.every((byte) => byte === 0)) break;
    verifyChecksum(block, offset);

    const type = String.fromCharCode(block[156] ?? 0);
    const size = pending.size ?? readOctal(block, 124, 12);
    const body = data.subarray(offset + blockSize, offset + blockSize + size);
    offset += blockSize + Math.ceil(size / blockSize) * blockSize;

    // Extended headers describe the entry that follows them.
    if (type === 'x') {
      pending = { ...pending, ...parsePax(body) };
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L' || type === 'K') {
      const value = body.toString('utf8').replace(/\0.*$/s, '');
      pending = type === 'L' ? { ...pending, path: value } : { ...pending, linkpath: value };
      continue;
    }

    const prefix = readString(block, 345, 155);
    const name =
      pending.path ??
      (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    const linkTarget = pending.linkpath ?? readString(block, 157, 100);
    entries.push({
      path: normalisePath(name),
      type: entryType(type),
      mode: readOctal(block, 100, 8),
      content: type === '0' || type === '\0' || type === '7' ? Buffer.from(body) : Buffer.alloc(0),
      ...(linkTarget ? { linkTarget } : {}),
    });
    pending = {};
  }
  return entries;
}

function entryType(flag: string): ReadTarEntry['type'] {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return 'other';
}

function parsePax(body: Buffer): { path?: string; linkpath?: string; size?: number } {
  const result: { path?: string; linkpath?: string; size?: number } = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(body.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'path') result.path = value;
    if (key === 'linkpath') result.linkpath = value;
    if (key === 'size') result.size = Number(value);
    offset += length;
  }
  return result;
}

function verifyChecksum(block: Buffer, offset: number): void {
  const stored = readOctal(block, 148, 8);
  let sum = 0;
  for (let index = 0; index < blockSize; index += 1) {
    sum += index >= 148 && index < 156 ? 0x20 : (block[index] ?? 0);
  }
  if (sum !== stored) {
    throw new SupplyChainError('LAYER_INVALID', `layer tar header at byte ${offset} is corrupt`);
  }
}

function readString(block: Buffer, offset: number, size: number): string {
  const field = block.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? size : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, size: number): number {
  const text = readString(block, offset, size).trim();
  return text ? parseInt(text, 8) : 0;
}

function normalisePath(path: string): string {
  return path.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}
