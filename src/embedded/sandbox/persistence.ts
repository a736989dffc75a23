import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from './objects.ts';

/*
 * Why a journal and a snapshot rather than SQLite: the sandbox serves every read (get, list,
 * watch) from memory, because watches and lists must be fast and the state of a local cluster
 * is small. Disk is only there to survive a restart, so each write is one sequential append of
 * a JSON line, and the journal is folded into a snapshot (written to a temporary file, fsynced
 * and renamed into place, so a crash leaves either the old or the new snapshot) when it grows
 * or the server closes. A torn last line from a crash is ignored on replay.
 */

/** One line of the journal: an object written or removed at a resourceVersion. */
export interface JournalEntry {
  rv: number;
  storageKey: string;
  /** Present for a write; absent for a delete (then namespace and name say which). */
  object?: KubeObject;
  namespace?: string;
  name?: string;
}

export interface LoadedState {
  resourceVersion: number;
  objects: { storageKey: string; object: KubeObject }[];
}

interface Snapshot {
  resourceVersion: number;
  objects: { storageKey: string; object: KubeObject }[];
}

/** The on-disk state of one sandbox in its data directory. */
export class Journal {
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private descriptor: number | undefined;
  private entriesSinceSnapshot = 0;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.snapshotPath = join(dataDir, 'sandbox-snapshot.json');
    this.journalPath = join(dataDir, 'sandbox-journal.jsonl');
  }

  /** Reads the snapshot and replays the journal written after it. */
  load(): LoadedState {
    const snapshot = this.readSnapshot();
    const objects = new Map<string, { storageKey: string; object: KubeObject }>();
    for (const entry of snapshot.objects) objects.set(keyOf(entry.storageKey, entry.object), entry);
    let resourceVersion = snapshot.resourceVersion;

    for (const entry of this.readJournal()) {
      if (entry.rv <= snapshot.resourceVersion) continue;
      resourceVersion = Math.max(resourceVersion, entry.rv);
      if (entry.object) {
        objects.set(keyOf(entry.storageKey, entry.object), {
          storageKey: entry.storageKey,
          object: entry.object,
        });
      } else {
        objects.delete(`${entry.storageKey}|${entry.namespace ?? ''}|${entry.name ?? ''}`);
      }
      this.entriesSinceSnapshot++;
    }
    return { resourceVersion, objects: [...objects.values()] };
  }

  /** Appends a write; `objectJson` is the object's JSON, already serialised by the caller. */
  appendWrite(rv: number, storageKey: string, objectJson: string): void {
    this.appendLine(
      `{"rv":${rv},"storageKey":${JSON.stringify(storageKey)},"object":${objectJson}}`,
    );
  }

  appendDelete(rv: number, storageKey: string, namespace: string, name: string): void {
    this.appendLine(JSON.stringify({ rv, storageKey, namespace, name }));
  }

  /** How many journal lines a snapshot would fold away. */
  get pendingEntries(): number {
    return this.entriesSinceSnapshot;
  }

  /** Writes a full snapshot atomically, then starts an empty journal. */
  writeSnapshot(state: LoadedState): void {
    const temporary = `${this.snapshotPath}.tmp`;
    const descriptor = openSync(temporary, 'w');
    writeSync(descriptor, JSON.stringify(state satisfies Snapshot));
    fsyncSync(descriptor);
    closeSync(descriptor);
    renameSync(temporary, this.snapshotPath);

    // The journal's entries are now all at or below the snapshot's resourceVersion.
    this.close();
    writeFileSync(this.journalPath, '');
    this.entriesSinceSnapshot = 0;
  }

  close(): void {
    if (this.descriptor === undefined) return;
    closeSync(this.descriptor);
    this.descriptor = undefined;
  }

  private appendLine(line: string): void {
    this.descriptor ??= openSync(this.journalPath, 'a');
    writeSync(this.descriptor, `${line}\n`);
    this.entriesSinceSnapshot++;
  }

  private readSnapshot(): Snapshot {
    if (!existsSync(this.snapshotPath)) return { resourceVersion: 0, objects: [] };
    return JSON.parse(readFileSync(this.snapshotPath, 'utf8')) as Snapshot;
  }

  private readJournal(): JournalEntry[] {
    if (!existsSync(this.journalPath)) return [];
    const entries: JournalEntry[] = [];
    for (const line of readFileSync(this.journalPath, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        // A line torn by a crash mid-append: everything before it is intact.
        break;
      }
    }
    return entries;
  }
}

function keyOf(storageKey: string, object: KubeObject): string {
  return `${storageKey}|${object.metadata.namespace ?? ''}|${object.metadata.name}`;
}
