import type { KubeObject } from './objects.ts';

/** A change to one stored object, as watchers receive it. */
export interface ChangeEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resourceVersion: number;
  storageKey: string;
  object: KubeObject;
  /** The object's JSON, serialised once for every watcher. */
  json: string;
  /** The object before a modification, so watchers can tell it left or entered a selector. */
  previous?: KubeObject;
}

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * Fans stored changes out to watchers and keeps a window of recent changes so that a watch can
 * resume from a resourceVersion. A resourceVersion older than the window is compacted: resuming
 * from it gets 410 Gone, as from an API server whose etcd history was compacted.
 */
export class WatchHub {
  private history: ChangeEvent[] = [];
  private compactedThrough: number;
  private readonly listeners = new Map<string, Set<ChangeListener>>();

  constructor(
    startResourceVersion: number,
    private readonly historySize = 10_000,
  ) {
    // Changes made before this process started are not in memory: resuming from before them
    // would miss events, so it is refused as compacted.
    this.compactedThrough = startResourceVersion;
  }

  /** The newest resourceVersion that can no longer be resumed from. */
  get oldestResumable(): number {
    return this.compactedThrough;
  }

  publish(event: ChangeEvent): void {
    this.history.push(event);
    if (this.history.length >= this.historySize * 2) this.compact();
    for (const listener of this.listeners.get(event.storageKey) ?? []) listener(event);
  }

  /** Registers a listener for one type's changes; returns the function that removes it. */
  subscribe(storageKey: string, listener: ChangeListener): () => void {
    const set = this.listeners.get(storageKey) ?? new Set<ChangeListener>();
    set.add(listener);
    this.listeners.set(storageKey, set);
    return () => set.delete(listener);
  }

  get watcherCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** The changes to a type after `resourceVersion`, or `undefined` when compacted away. */
  changesSince(storageKey: string, resourceVersion: number): ChangeEvent[] | undefined {
    if (resourceVersion < this.compactedThrough) return undefined;
    const start = this.firstIndexAfter(resourceVersion);
    return this.history.slice(start).filter((event) => event.storageKey === storageKey);
  }

  private firstIndexAfter(resourceVersion: number): number {
    let low = 0;
    let high = this.history.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.history[middle]!.resourceVersion <= resourceVersion) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private compact(): void {
    const dropped = this.history.length - this.historySize;
    this.compactedThrough = this.history[dropped - 1]!.resourceVersion;
    this.history = this.history.slice(dropped);
  }
}
