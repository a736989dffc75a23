import type { EvidenceKind, EvidencePayloads } from '../domain/evidence.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { rowToCheckpoint, rowToEntry } from '../ledger/rows.ts';
import { ChainWalk, type LedgerVerification } from '../ledger/verify.ts';
import type { Store } from '../store/open.ts';

/** Every kind the audit reads; `delivery.step` is left out, its results are in `delivery.completed`. */
export const AUDITED_KINDS: EvidenceKind[] = [
  'delivery.started',
  'delivery.completed',
  'delivery.failed',
  'proposal.opened',
  'proposal.pushed',
  'proposal.reviewed',
  'proposal.merged',
  'proposal.refused',
  'gate.verdict',
  'change.opened',
  'change.approved',
  'change.state',
  'change.emergency',
  'change.break-glass',
  'change.retro-reviewed',
  'sync.started',
  'sync.refused',
  'sync.completed',
  'sync.failed',
  'drift.detected',
  'drift.reverted',
  'incident.opened',
  'incident.resolved',
  'verification.sealed',
  'cluster.change-observed',
  'rollback.requested',
  'broker.lease.opened',
  'broker.lease.revoked',
];

/** An entry whose payload is typed by its kind. */
export type Evidence<K extends EvidenceKind> = LedgerEntry & {
  kind: K;
  payload: EvidencePayloads[K];
};

const PAGE = 20_000;
const MAX_PROBLEMS = 100;
const AUDITED = new Set<string>(AUDITED_KINDS);

/**
 * Reads the audited kinds from the store in ledger order, a page at a time by sequence number,
 * and verifies the whole chain and every checkpoint in the same pass (CP-14), so the ledger is
 * read once.
 */
export async function loadAuditedEntries(
  store: Store,
  publicKeyPem: string,
): Promise<{ entries: LedgerEntry[]; verification: LedgerVerification }> {
  const checkpoints = (
    await store.db.selectFrom('ledger_checkpoints').selectAll().orderBy('tree_size').execute()
  ).map(rowToCheckpoint);
  const walk = new ChainWalk(checkpoints, publicKeyPem);
  const entries: LedgerEntry[] = [];
  let after = 0;
  for (;;) {
    const rows = await store.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      walk.visit(row);
      if (AUDITED.has(row.kind)) entries.push(slim(rowToEntry(row)));
    }
    if (rows.length < PAGE) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  walk.finish();
  const problems = walk.problems.slice(0, MAX_PROBLEMS);
  const verification = {
    ok: problems.length === 0,
    entries: walk.count,
    checkpoints: checkpoints.length,
    firstProblem: problems[0],
    problems,
  };
  return { entries, verification };
}

/**
 * The audit answers from payload fields, never from a verification's signed envelope; the
 * envelope stays in the ledger (and in packs, read from the store) but not in memory here.
 */
function slim(entry: LedgerEntry): LedgerEntry {
  if (entry.kind === 'verification.sealed' && 'attestation' in entry.payload) {
    entry.payload = { ...entry.payload, attestation: {} };
  }
  return entry;
}

/**
 * The evidence grouped by the links producers write into payloads, so that a deployment can be
 * joined to its change, proposal, delivery run and image without scanning the ledger again.
 */
export class EvidenceIndex {
  private readonly byKind = new Map<string, LedgerEntry[]>();
  private readonly byLink = new Map<string, LedgerEntry[]>();
  readonly bySeq = new Map<number, LedgerEntry>();

  constructor(readonly entries: LedgerEntry[]) {
    for (const entry of entries) this.add(entry);
  }

  /** All entries of `kind`, in ledger order. */
  all<K extends EvidenceKind>(kind: K): Evidence<K>[] {
    return (this.byKind.get(kind) ?? []) as Evidence<K>[];
  }

  /** Entries of `kind` whose payload links to `key`, e.g. `proposal:17` or `app:prod/checkout`. */
  linked<K extends EvidenceKind>(kind: K, key: string): Evidence<K>[] {
    return (this.byLink.get(`${kind}|${key}`) ?? []) as Evidence<K>[];
  }

  /**
   * Entries of `kind` linked to `key` recorded in `[from, until)` (ISO times), found by binary
   * search over the list ordered by time.
   */
  linkedBetween<K extends EvidenceKind>(
    kind: K,
    key: string,
    from: string,
    until?: string,
  ): Evidence<K>[] {
    const list = this.byTime(`${kind}|${key}`);
    const start = lowerBound(list, from);
    const end = until === undefined ? list.length : lowerBound(list, until);
    return list.slice(start, end) as Evidence<K>[];
  }

  private readonly timeOrdered = new Map<string, LedgerEntry[]>();

  private byTime(link: string): LedgerEntry[] {
    let sorted = this.timeOrdered.get(link);
    if (!sorted) {
      // Ledger order is time order for one writer; sort anyway, stably, for clocks that stepped.
      sorted = [...(this.byLink.get(link) ?? [])].sort((a, b) =>
        a.time < b.time ? -1 : a.time > b.time ? 1 : 0,
      );
      this.timeOrdered.set(link, sorted);
    }
    return sorted;
  }

  first<K extends EvidenceKind>(kind: K, key: string): Evidence<K> | undefined {
    return this.linked(kind, key)[0];
  }

  last<K extends EvidenceKind>(kind: K, key: string): Evidence<K> | undefined {
    const list = this.linked(kind, key);
    return list[list.length - 1];
  }

  private add(entry: LedgerEntry): void {
    this.bySeq.set(entry.seq, entry);
    push(this.byKind, entry.kind, entry);
    for (const key of linkKeys(entry)) push(this.byLink, `${entry.kind}|${key}`, entry);
  }
}

/** The payload fields that link evidence together, as `<field>:<value>` keys. */
const LINK_FIELDS = ['run', 'proposal', 'change', 'app', 'incident', 'deployment', 'id'] as const;

function linkKeys(entry: LedgerEntry): string[] {
  const payload = entry.payload;
  const keys: string[] = [];
  for (const field of LINK_FIELDS) {
    const value = payload[field];
    if (typeof value === 'string') keys.push(`${field}:${value}`);
  }
  // Commits and image digests are links too: a deployment names its config commit, a merge
  // names its head and merge commits, a delivery names its image.
  for (const field of ['mergeCommit', 'headCommit', 'configCommit'] as const) {
    const value = payload[field];
    if (typeof value === 'string') keys.push(`commit:${value}`);
  }
  const image = payload.image;
  if (typeof image === 'string' && image.includes('@')) keys.push(`digest:${image.split('@')[1]}`);
  return keys;
}

function lowerBound(list: LedgerEntry[], time: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.time < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function push(map: Map<string, LedgerEntry[]>, key: string, entry: LedgerEntry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}
