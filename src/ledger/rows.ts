import type { Kysely } from 'kysely';
import type { Database, LedgerCheckpointRow, LedgerEntryRow } from '../store/schema.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { LedgerEntry } from './entry.ts';

const PAGE = 10_000;

/** Visits entries 1..`upToSeq` (all when omitted) in order, a page at a time. */
export async function forEachEntryRow(
  db: Kysely<Database>,
  upToSeq: number | undefined,
  visit: (row: LedgerEntryRow) => void,
): Promise<void> {
  let after = 0;
  for (;;) {
    let query = db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(PAGE);
    if (upToSeq !== undefined) query = query.where('seq', '<=', upToSeq);
    const rows = await query.execute();
    for (const row of rows) visit(row);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.seq;
  }
}

export function rowToEntry(row: LedgerEntryRow): LedgerEntry {
  return {
    seq: Number(row.seq),
    time: row.time,
    kind: row.kind,
    subject: row.subject,
    actor: row.actor,
    payload: JSON.parse(row.payload),
    prev: row.prev,
    hash: row.hash,
  };
}

export function rowToCheckpoint(row: LedgerCheckpointRow): Checkpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    headHash: row.head_hash,
    time: row.time,
    keyId: row.key_id,
    envelope: JSON.parse(row.envelope),
  };
}
