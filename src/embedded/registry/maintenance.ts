import { BlobStore } from './blob-store.ts';
import { RepositoryStore } from './repository-store.ts';

/** A manifest as `registry prune` sees it. */
export interface StoredManifest {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  pushedAt: string;
  /** Tags pointing at it now; empty when untagged. */
  tags: string[];
  subject?: string;
  artifactType?: string;
}

export interface GarbageCollection {
  deletedBlobs: string[];
  freedBytes: number;
}

/**
 * The embedded registry's storage, for maintenance outside the HTTP API: listing what is
 * stored with push times, deleting manifests and tags, and collecting blobs nothing references.
 * It decides nothing; the lifecycle policy lives with `registry prune`. Safe to use while the
 * server runs in the same process; from another process, run it while the server is stopped.
 */
export class RegistryStorage {
  private readonly blobs: BlobStore;
  private readonly repositories: RepositoryStore;

  constructor(dataDir: string) {
    this.blobs = new BlobStore(dataDir);
    this.repositories = new RepositoryStore(dataDir);
  }

  listRepositories(): string[] {
    return this.repositories.listNames();
  }

  /** Manifests of one repository, or of all, oldest push first. */
  listManifests(repository?: string): StoredManifest[] {
    const names = repository === undefined ? this.listRepositories() : [repository];
    return names.flatMap((name) => this.manifestsOf(name));
  }

  /** Deletes a manifest and its tags; its blobs go at the next garbage collection. */
  deleteManifest(repository: string, digest: string): boolean {
    return this.repositories.deleteManifest(repository, digest);
  }

  deleteTag(repository: string, tag: string): boolean {
    return this.repositories.deleteTag(repository, tag);
  }

  /**
   * Deletes blob files that no manifest of any repository names. Blobs younger than
   * `minimumAgeMs` (default one hour) stay, since a push in progress uploads its blobs before
   * the manifest that names them.
   */
  collectGarbage(options: { minimumAgeMs?: number; now?: Date } = {}): GarbageCollection {
    const cutoff = (options.now ?? new Date()).getTime() - (options.minimumAgeMs ?? 3_600_000);
    const referenced = this.referencedDigests();
    const result: GarbageCollection = { deletedBlobs: [], freedBytes: 0 };

    for (const digest of this.blobs.listDigests()) {
      const stat = this.blobs.stat(digest);
      if (!stat || referenced.has(digest) || stat.modifiedAt.getTime() > cutoff) continue;
      this.blobs.delete(digest);
      result.deletedBlobs.push(digest);
      result.freedBytes += stat.size;
    }
    this.unlinkDeleted(new Set(result.deletedBlobs));
    return result;
  }

  private manifestsOf(name: string): StoredManifest[] {
    const record = this.repositories.read(name);
    const tagsByDigest = new Map<string, string[]>();
    for (const [tag, target] of Object.entries(record.tags)) {
      tagsByDigest.set(target.digest, [...(tagsByDigest.get(target.digest) ?? []), tag]);
    }
    return Object.values(record.manifests)
      .sort((a, b) => a.pushedAt.localeCompare(b.pushedAt))
      .map((manifest) => ({
        repository: name,
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        size: manifest.size,
        pushedAt: manifest.pushedAt,
        tags: (tagsByDigest.get(manifest.digest) ?? []).sort(),
        ...(manifest.subject ? { subject: manifest.subject } : {}),
        ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
      }));
  }

  private referencedDigests(): Set<string> {
    const referenced = new Set<string>();
    for (const name of this.listRepositories()) {
      for (const manifest of Object.values(this.repositories.read(name).manifests)) {
        referenced.add(manifest.digest);
        for (const digest of manifest.references) referenced.add(digest);
      }
    }
    return referenced;
  }

  private unlinkDeleted(deleted: Set<string>): void {
    if (deleted.size === 0) return;
    for (const name of this.listRepositories()) {
      this.repositories.update(name, (record) => {
        for (const digest of Object.keys(record.blobs)) {
          if (deleted.has(digest)) delete record.blobs[digest];
        }
      });
    }
  }
}

/** Opens the storage of an embedded registry's data directory for `registry prune`. */
export function openRegistryStorage(dataDir: string): RegistryStorage {
  return new RegistryStorage(dataDir);
}
