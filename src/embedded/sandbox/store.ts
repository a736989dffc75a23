import { Journal } from './persistence.ts';
import type { KubeObject } from './objects.ts';
import { WatchHub } from './watch-hub.ts';

/** A stored object and its JSON, serialised once at write time and reused by every read. */
export interface StoredObject {
  readonly object: KubeObject;
  readonly json: string;
  /** The JSON as UTF-8, encoded on first use, so that large lists are copied, not re-encoded. */
  readonly bytes: Buffer;
}

/** A stored object whose UTF-8 bytes are encoded once, when first asked for. */
class StoredEntry implements StoredObject {
  private encoded: Buffer | undefined;

  constructor(
    readonly object: KubeObject,
    readonly json: string,
  ) {}

  get bytes(): Buffer {
    this.encoded ??= Buffer.from(this.json);
    return this.encoded;
  }
}

// Fold the journal into a snapshot after this many appended lines.
const snapshotAfterEntries = 100_000;

/**
 * The sandbox's objects, held in memory by type and `namespace/name`, journalled to disk, and
 * published to watchers. Every write takes the next resourceVersion, which keeps increasing
 * across restarts. Stored objects are never mutated: a write replaces them.
 */
export class ObjectStore {
  readonly hub: WatchHub;
  private readonly byType = new Map<string, Map<string, StoredObject>>();
  private readonly sortedKeys = new Map<string, string[]>();
  private current: number;

  /** `watchHistory`: how many recent changes a watch can resume from (older ones get 410). */
  constructor(
    private readonly journal: Journal,
    watchHistory?: number,
  ) {
    const state = journal.load();
    this.current = state.resourceVersion;
    for (const { storageKey, object } of state.objects) {
      this.typeMap(storageKey).set(
        memberKey(object),
        new StoredEntry(object, JSON.stringify(object)),
      );
    }
    this.hub = new WatchHub(this.current, watchHistory);
  }

  /** The newest resourceVersion, as a number. */
  get resourceVersion(): number {
    return this.current;
  }

  get(storageKey: string, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.byType.get(storageKey)?.get(`${namespace ?? ''}/${name}`);
  }

  /** The objects of a type (in one namespace, or all), ordered by namespace and name. */
  list(storageKey: string, namespace?: string): StoredObject[] {
    const members = this.byType.get(storageKey);
    if (!members) return [];
    const keys = this.sortedKeysOf(storageKey, members);
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    const result: StoredObject[] = [];
    for (const key of keys) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      result.push(members.get(key)!);
    }
    return result;
  }

  count(storageKey: string): number {
    return this.byType.get(storageKey)?.size ?? 0;
  }

  /**
   * Stores an object (created or replaced): sets its resourceVersion, journals it and tells
   * watchers. The caller hands over ownership of `object`.
   */
  put(storageKey: string, object: KubeObject): StoredObject {
    const members = this.typeMap(storageKey);
    const key = memberKey(object);
    const previous = members.get(key);
    const rv = ++this.current;
    object.metadata.resourceVersion = String(rv);

    const stored = new StoredEntry(object, JSON.stringify(object));
    if (!previous) this.sortedKeys.delete(storageKey);
    members.set(key, stored);
    this.journal.appendWrite(rv, storageKey, stored.json);
    this.hub.publish({
      type: previous ? 'MODIFIED' : 'ADDED',
      resourceVersion: rv,
      storageKey,
      object,
      json: stored.json,
      previous: previous?.object,
    });
    this.snapshotIfDue();
    return stored;
  }

  /** Removes an object; watchers see it deleted at a new resourceVersion. */
  remove(
    storageKey: string,
    namespace: string | undefined,
    name: string,
  ): StoredObject | undefined {
    const members = this.byType.get(storageKey);
    const key = `${namespace ?? ''}/${name}`;
    const existing = members?.get(key);
    if (!members || !existing) return undefined;

    const rv = ++this.current;
    const object: KubeObject = {
      ...existing.object,
      metadata: { ...existing.object.metadata, resourceVersion: String(rv) },
    };
    const json = JSON.stringify(object);
    members.delete(key);
    this.sortedKeys.delete(storageKey);
    this.journal.appendDelete(rv, storageKey, namespace ?? '', name);
    this.hub.publish({ type: 'DELETED', resourceVersion: rv, storageKey, object, json });
    this.snapshotIfDue();
    return new StoredEntry(object, json);
  }

  /** Writes a snapshot and closes the journal; the store must not be written afterwards. */
  close(): void {
    if (this.journal.pendingEntries > 0) this.snapshot();
    this.journal.close();
  }

  private snapshot(): void {
    const objects: { storageKey: string; object: KubeObject }[] = [];
    for (const [storageKey, members] of this.byType) {
      for (const { object } of members.values()) objects.push({ storageKey, object });
    }
    this.journal.writeSnapshot({ resourceVersion: this.current, objects });
  }

  private snapshotIfDue(): void {
    if (this.journal.pendingEntries >= snapshotAfterEntries) this.snapshot();
  }

  private typeMap(storageKey: string): Map<string, StoredObject> {
    let members = this.byType.get(storageKey);
    if (!members) {
      members = new Map();
      this.byType.set(storageKey, members);
    }
    return members;
  }

  private sortedKeysOf(storageKey: string, members: Map<string, StoredObject>): string[] {
    let keys = this.sortedKeys.get(storageKey);
    if (!keys) {
      keys = [...members.keys()].sort();
      this.sortedKeys.set(storageKey, keys);
    }
    return keys;
  }
}

function memberKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
