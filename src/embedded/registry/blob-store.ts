import { createHash, randomUUID, type Hash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256Digest } from '../../supply-chain/digest.ts';
import { digestInvalid, OciHttpError, uploadUnknown } from './errors.ts';
import type { ByteRange } from './http-util.ts';
import { tooLarge } from './http-util.ts';

interface UploadSession {
  repository: string;
  path: string;
  size: number;
  // Hashing as bytes arrive spares a second read of the whole blob when the upload closes.
  hash: Hash;
  lastActivity: number;
}

/** An upload session untouched this long is abandoned; its file is removed. */
const sessionIdleMs = 60 * 60 * 1000;

/**
 * Content-addressed blob files under `<dataDir>/blobs/sha256/<hex>`, shared by every
 * repository, and the upload sessions that fill them. A blob file appears only by rename, after
 * its digest has been checked, so a reader never sees a partial or wrong blob. Upload sessions
 * live in memory; their temporary files are discarded when the server starts.
 */
export class BlobStore {
  private readonly blobDir: string;
  private readonly uploadDir: string;
  private readonly uploads = new Map<string, UploadSession>();

  constructor(dataDir: string) {
    this.blobDir = join(dataDir, 'blobs', 'sha256');
    this.uploadDir = join(dataDir, 'uploads');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.uploadDir, { recursive: true });
  }

  /** Removes temporary files of uploads a previous run left unfinished; only the server calls it. */
  discardStaleUploads(): void {
    rmSync(this.uploadDir, { recursive: true, force: true });
    mkdirSync(this.uploadDir, { recursive: true });
  }

  /** Size and write time of a stored blob, or undefined. */
  stat(digest: string): { size: number; modifiedAt: Date } | undefined {
    try {
      const stats = statSync(this.pathOf(digest));
      return { size: stats.size, modifiedAt: stats.mtime };
    } catch {
      return undefined;
    }
  }

  openReadStream(digest: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(digest), range ? { ...range } : {});
  }

  readBytes(digest: string): Buffer {
    return readFileSync(this.pathOf(digest));
  }

  /** Stores bytes already in memory (manifests) and returns their digest. */
  writeBytes(bytes: Uint8Array): string {
    const digest = sha256Digest(bytes);
    if (existsSync(this.pathOf(digest))) return digest;
    const temporary = join(this.uploadDir, `bytes-${randomUUID()}`);
    writeFileSync(temporary, bytes);
    renameSync(temporary, this.pathOf(digest));
    return digest;
  }

  /** Every stored blob digest (for garbage collection). */
  listDigests(): string[] {
    return readdirSync(this.blobDir)
      .filter((name) => /^[a-f0-9]{64}$/.test(name))
      .map((hex) => `sha256:${hex}`);
  }

  delete(digest: string): void {
    rmSync(this.pathOf(digest), { force: true });
  }

  startUpload(repository: string): string {
    this.expireIdleUploads();
    const id = randomUUID();
    const path = join(this.uploadDir, id);
    writeFileSync(path, '');
    this.uploads.set(id, {
      repository,
      path,
      size: 0,
      hash: createHash('sha256'),
      lastActivity: Date.now(),
    });
    return id;
  }

  /** The session's size so far, checking it belongs to the repository in the URL. */
  uploadSize(repository: string, id: string): number {
    return this.session(repository, id).size;
  }

  /** Appends a request body to the session; refuses once the blob would exceed `limit`. */
  async appendToUpload(repository: string, id: string, source: Readable, limit: number) {
    const session = this.session(repository, id);
    session.lastActivity = Date.now();
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (session.size + chunk.length > limit) return done(tooLarge(limit));
        session.size += chunk.length;
        session.hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, counter, createWriteStream(session.path, { flags: 'a' }));
    } catch (error) {
      // the session's hash no longer matches its file: it cannot be continued
      this.cancelUpload(repository, id);
      throw error instanceof OciHttpError ? error : uploadInvalid('the upload was interrupted');
    }
    return session.size;
  }

  /**
   * Closes the session: when the bytes hash to `expectedDigest` they become the blob, otherwise
   * they are thrown away and the upload is refused. Either way the session ends.
   */
  finishUpload(repository: string, id: string, expectedDigest: string): { size: number } {
    const session = this.session(repository, id);
    this.uploads.delete(id);

    const actual = `sha256:${session.hash.digest('hex')}`;
    if (actual !== expectedDigest) {
      rmSync(session.path, { force: true });
      throw digestInvalid(`uploaded content has digest ${actual}, not ${expectedDigest}`);
    }
    if (existsSync(this.pathOf(actual))) rmSync(session.path, { force: true });
    else renameSync(session.path, this.pathOf(actual));
    return { size: session.size };
  }

  cancelUpload(repository: string, id: string): void {
    const session = this.session(repository, id);
    this.uploads.delete(id);
    rmSync(session.path, { force: true });
  }

  private expireIdleUploads(): void {
    const cutoff = Date.now() - sessionIdleMs;
    for (const [id, session] of this.uploads) {
      if (session.lastActivity >= cutoff) continue;
      this.uploads.delete(id);
      rmSync(session.path, { force: true });
    }
  }

  private session(repository: string, id: string): UploadSession {
    const session = this.uploads.get(id);
    if (!session || session.repository !== repository) throw uploadUnknown(id);
    return session;
  }

  private pathOf(digest: string): string {
    return join(this.blobDir, digest.slice('sha256:'.length));
  }
}

function uploadInvalid(message: string): OciHttpError {
  return new OciHttpError(400, 'BLOB_UPLOAD_INVALID', message);
}
