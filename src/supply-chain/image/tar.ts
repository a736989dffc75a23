/**
 * A reproducible tar writer (POSIX ustar with pax extended headers where ustar runs out).
 * Every entry carries the same owner (0:0, empty user and group names) and the same mtime, and
 * entries are written in byte order of their paths, so the same tree gives the same bytes on any
 * host.
 */

/** One entry of a layer. Paths are relative, `/`-separated, without `.` or `..` segments. */
export type TarEntry =
  | { type: 'file'; path: string; mode: number; content: Uint8Array }
  | { type: 'directory'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

const blockSize = 512;
const typeFlag = { file: '0', symlink: '2', directory: '5', pax: 'x' } as const;
// ustar's octal size field holds 11 digits.
const maxUstarSize = 0o77777777777;

/** Writes the entries, sorted by path, as one tar archive ending in two zero blocks. */
export function writeTar(entries: readonly TarEntry[], mtimeSeconds: number): Buffer {
  const chunks: Buffer[] = [];
  for (const entry of sortEntries(entries)) chunks.push(...encodeEntry(entry, mtimeSeconds));
  chunks.push(Buffer.alloc(blockSize * 2));
  return Buffer.concat(chunks);
}

/** Sorts by path bytes so that output order never depends on the file system's listing order. */
export function sortEntries(entries: readonly TarEntry[]): TarEntry[] {
  return [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function encodeEntry(entry: TarEntry, mtimeSeconds: number): Buffer[] {
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const linkName = entry.type === 'symlink' ? entry.target : '';
  const content = entry.type === 'file' ? Buffer.from(entry.content) : Buffer.alloc(0);
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;

  // Names that ustar cannot hold go into a pax header that precedes the entry.
  const split = splitUstarName(name);
  const pax: Record<string, string> = {};
  if (!split) pax.path = name;
  if (!fitsUstarField(linkName, 100)) pax.linkpath = linkName;
  if (content.length > maxUstarSize) pax.size = String(content.length);

  const blocks: Buffer[] = [];
  if (Object.keys(pax).length > 0) blocks.push(...paxBlocks(name, pax, mtimeSeconds));
  blocks.push(
    header({
      name: split?.name ?? truncateBytes(name, 100),
      prefix: split?.prefix ?? '',
      mode,
      size: content.length > maxUstarSize ? 0 : content.length,
      mtime: mtimeSeconds,
      type: typeFlag[entry.type],
      linkName: pax.linkpath ? truncateBytes(linkName, 100) : linkName,
    }),
  );
  if (content.length > 0) blocks.push(content, padding(content.length));
  return blocks;
}

function paxBlocks(name: string, records: Record<string, string>, mtime: number): Buffer[] {
  const body = Buffer.from(
    Object.entries(records)
      .map(([key, value]) => paxRecord(key, value))
      .join(''),
  );
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  const paxName = `PaxHeaders/${truncateBytes(base, 80)}`;
  const paxHeader = header({
    name: paxName,
    prefix: '',
    mode: 0o644,
    size: body.length,
    mtime,
    type: typeFlag.pax,
    linkName: '',
  });
  return [paxHeader, body, padding(body.length)];
}

/** `"<len> <key>=<value>\n"` where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLength = Buffer.byteLength(rest);
  let digits = String(restLength).length;
  if (String(restLength + digits).length > digits) digits += 1;
  return `${restLength + digits}${rest}`;
}

/** ustar holds up to 100 bytes of name plus a 155-byte prefix split at a `/`; ASCII only. */
function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: '' };
  for (let cut = name.indexOf('/'); cut !== -1; cut = name.indexOf('/', cut + 1)) {
    const prefix = name.slice(0, cut);
    const rest = name.slice(cut + 1);
    if (prefix.length <= 155 && rest.length > 0 && rest.length <= 100)
      return { name: rest, prefix };
  }
  return undefined;
}

function fitsUstarField(value: string, size: number): boolean {
  return isAscii(value) && value.length <= size;
}

function isAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

function truncateBytes(value: string, size: number): string {
  return Buffer.from(value).subarray(0, size).toString('latin1');
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  type: string;
  linkName: string;
}

function header(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(blockSize);
  block.write(fields.name, 0, 100, 'latin1');
  writeOctal(block, fields.mode, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, fields.size, 124, 12);
  writeOctal(block, fields.mtime, 136, 12);
  block.write(fields.type, 156, 1, 'latin1');
  block.write(fields.linkName, 157, 100, 'latin1');
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  // uname and gname stay empty; devmajor/devminor are zero for regular entries.
  writeOctal(block, 0, 329, 8);
  writeOctal(block, 0, 337, 8);
  block.write(fields.prefix, 345, 155, 'latin1');

  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

function writeOctal(block: Buffer, value: number, offset: number, size: number): void {
  block.write(`${value.toString(8).padStart(size - 1, '0')}\0`, offset, size, 'latin1');
}

function padding(length: number): Buffer {
  const remainder = length % blockSize;
  return Buffer.alloc(remainder === 0 ? 0 : blockSize - remainder);
}
