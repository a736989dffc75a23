import type { EvidenceKind, EvidencePayloads } from '../../domain/evidence.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';
import type { Ledger } from '../../ledger/ledger.ts';

/** An entry whose payload is typed by its kind. */
export type Entry<K extends EvidenceKind> = LedgerEntry & { kind: K; payload: EvidencePayloads[K] };

/** The kinds the dashboard reads; everything else in the ledger is skipped. */
const VIEWED_KINDS = new Set<string>([
  'delivery.started',
  'delivery.completed',
  'proposal.opened',
  'proposal.pushed',
  'proposal.reviewed',
  'proposal.merged',
  'gate.verdict',
  'change.opened',
  'change.approved',
  'change.state',
  'sync.completed',
  'sync.failed',
  'sync.refused',
  'drift.detected',
  'drift.reverted',
  'incident.opened',
  'incident.resolved',
  'verification.sealed',
]);

const PAGE = 5000;

/**
 * The ledger entries the read API needs, kept in memory by kind and caught up incrementally: each
 * read asks the ledger only for entries after the last one seen, so a view costs one head query
 * when nothing changed. The ledger is append-only, so nothing already read ever changes.
 */
export class EvidenceCache {
  private readonly byKind = new Map<string, LedgerEntry[]>();
  private seenSeq = 0;
  private catchingUp: Promise<void> | undefined;

  constructor(private readonly ledger: Ledger) {}

  /** Brings the cache up to the ledger's head; concurrent callers share one catch-up. */
  async refresh(): Promise<this> {
    this.catchingUp ??= this.catchUp().finally(() => (this.catchingUp = undefined));
    await this.catchingUp;
    return this;
  }

  get headSeq(): number {
    return this.seenSeq;
  }

  all<K extends EvidenceKind>(kind: K): Entry<K>[] {
    return (this.byKind.get(kind) ?? []) as Entry<K>[];
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const entries = await this.ledger.list({ afterSeq: this.seenSeq, limit: PAGE });
      for (const entry of entries) {
        if (VIEWED_KINDS.has(entry.kind)) {
          const list = this.byKind.get(entry.kind) ?? [];
          list.push(entry);
          this.byKind.set(entry.kind, list);
        }
        this.seenSeq = entry.seq;
      }
      if (entries.length < PAGE) return;
    }
  }
}

/** Groups entries by a key, keeping ledger order inside each group. */
export function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The digest part of `ref@sha256:…`, or the value itself when it is a bare digest. */
export function digestOf(image: string): string {
  const at = image.lastIndexOf('@');
  return at >= 0 ? image.slice(at + 1) : image;
}
