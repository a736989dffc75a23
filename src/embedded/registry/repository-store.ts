import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A manifest as a repository holds it; the bytes themselves are a blob. */
export interface ManifestRecord {
  digest: string;
  /** The Content-Type it was pushed with, returned unchanged. */
  mediaType: string;
  size: number;
  pushedAt: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** The digest of the manifest this one refers to (signatures, attestations, SBOMs). */
  subject?: string;
  /** Blobs and child manifests it names, so garbage collection keeps them. */
  references: string[];
}

export interface TagRecord {
  digest: string;
  pushedAt: string;
}

export interface RepositoryRecord {
  manifests: Record<string, ManifestRecord>;
  tags: Record<string, TagRecord>;
  /** Blobs uploaded or mounted into the repository, with the time they were linked. */
  blobs: Record<string, string>;
}

// Name components cannot start with "_", so this never collides with a nested repository.
const recordFile = '_repository.json';

/**
 * Per-repository metadata under `<dataDir>/repositories/<name>/_repository.json`: which blobs
 * the repository holds, its manifests and its tags. Each change is a synchronous
 * read-modify-write replaced by rename, so within one process changes never interleave and a
 * crash leaves the old or the new file, never half of one.
 */
export class RepositoryStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'repositories');
    mkdirSync(this.root, { recursive: true });
  }

  exists(name: string): boolean {
    return existsSync(this.fileOf(name));
  }

  /** Every repository name, sorted. */
  listNames(): string[] {
    const names: string[] = [];
    const walk = (directory: string) => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(directory, entry.name));
        else if (entry.name === recordFile) names.push(relative(this.root, directory));
      }
    };
    walk(this.root);
    return names.map((name) => name.split(sep).join('/')).sort();
  }

  read(name: string): RepositoryRecord {
    if (!this.exists(name)) return { manifests: {}, tags: {}, blobs: {} };
    return JSON.parse(readFileSync(this.fileOf(name), 'utf8')) as RepositoryRecord;
  }

  /** Applies `change` to the repository's record and saves it; returns what `change` returns. */
  update<T>(name: string, change: (record: RepositoryRecord) => T): T {
    const record = this.read(name);
    const result = change(record);
    const directory = join(this.root, ...name.split('/'));
    mkdirSync(directory, { recursive: true });
    const temporary = join(directory, `.${randomUUID()}.tmp`);
    writeFileSync(temporary, JSON.stringify(record));
    renameSync(temporary, this.fileOf(name));
    return result;
  }

  hasBlob(name: string, digest: string): boolean {
    return digest in this.read(name).blobs;
  }

  linkBlob(name: string, digest: string): void {
    this.update(name, (record) => {
      record.blobs[digest] ??= new Date().toISOString();
    });
  }

  /** A tag or a digest to the manifest it names, or undefined. */
  resolve(name: string, reference: string): ManifestRecord | undefined {
    const record = this.read(name);
    const digest = reference.startsWith('sha256:') ? reference : record.tags[reference]?.digest;
    return digest === undefined ? undefined : record.manifests[digest];
  }

  putManifest(name: string, manifest: ManifestRecord, tag?: string): void {
    this.update(name, (record) => {
      record.manifests[manifest.digest] = manifest;
      if (tag) record.tags[tag] = { digest: manifest.digest, pushedAt: manifest.pushedAt };
    });
  }

  /** Removes a manifest and every tag pointing at it; false when it was not there. */
  deleteManifest(name: string, digest: string): boolean {
    return this.update(name, (record) => {
      if (!(digest in record.manifests)) return false;
      delete record.manifests[digest];
      for (const [tag, target] of Object.entries(record.tags)) {
        if (target.digest === digest) delete record.tags[tag];
      }
      return true;
    });
  }

  deleteTag(name: string, tag: string): boolean {
    return this.update(name, (record) => {
      if (!(tag in record.tags)) return false;
      delete record.tags[tag];
      return true;
    });
  }

  private fileOf(name: string): string {
    return join(this.root, ...name.split('/'), recordFile);
  }
}
