import yauzl from 'yauzl';
import yazl from 'yazl';

/** One file inside an evidence pack. */
export interface PackFile {
  path: string;
  data: Buffer;
}

// Local-time constructor on purpose: zip's DOS timestamps are local time, so a date built from
// local fields encodes to the same bytes in every time zone, and a verifier anywhere can
// rebuild the archive byte for byte.
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

/**
 * Writes a deterministic zip: files stored uncompressed (deflate output differs between zlib
 * versions), fixed timestamps and modes, no comments. The same files always give the same
 * bytes, which is what lets a verifier prove no byte of the archive itself was altered.
 */
export function writeZip(files: PackFile[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of files) {
    zip.addBuffer(file.data, file.path, {
      mtime: FIXED_MTIME,
      mode: FILE_MODE,
      compress: false,
      forceDosTimestamp: true,
    });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Reads every file of a zip, in archive order; refuses duplicate or unsafe names. */
export function readZip(buffer: Buffer): Promise<PackFile[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: true },
      (openError, zip) => {
        if (openError || !zip) return reject(openError ?? new Error('unreadable zip'));
        const files: PackFile[] = [];
        zip.on('error', reject);
        zip.on('end', () => resolve(files));
        zip.on('entry', (entry: yauzl.Entry) => {
          if (files.some((f) => f.path === entry.fileName)) {
            return reject(new Error(`${entry.fileName} appears twice`));
          }
          zip.openReadStream(entry, (streamError, stream) => {
            if (streamError || !stream) return reject(streamError ?? new Error('unreadable entry'));
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.on('error', reject);
            stream.on('end', () => {
              files.push({ path: entry.fileName, data: Buffer.concat(chunks) });
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}
