import { rowToCheckpoint } from '../ledger/rows.ts';
import { ChainWalk, type LedgerVerification } from '../ledger/verify.ts';
import type { Store } from '../store/open.ts';
import { auditedKind, projectPayload } from './audited-fields.ts';
import type { AuditedEntry } from './evidence-index.ts';

const PAGE = 2000;
const MAX_PROBLEMS = 100;

/**
 * Reads the ledger in order, a page at a time by sequence number, verifying the whole chain and
 * every checkpoint as it goes (CP-14), so the ledger is read once. Each audited entry is kept
 * with only the payload fields the audit reads; a page's rows are garbage once it is walked.
 */
export async function loadAuditedEntries(
  store: Store,
  publicKeyPem: string,
): Promise<{ entries: AuditedEntry[]; verification: LedgerVerification }> {
  const checkpoints = (
    await store.db.selectFrom('ledger_checkpoints').selectAll().orderBy('tree_size').execute()
  ).map(rowToCheckpoint);
  const walk = new ChainWalk(checkpoints, publicKeyPem);
  const entries: AuditedEntry[] = [];
  // Actors repeat (the reconciler, a run's steps, a few people): one string each is kept.
  const actors = new Map<string, string>();
  const shared = new Map<string, string>();
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
      const kind = auditedKind(row.kind);
      if (!kind) continue;
      let actor = actors.get(row.actor);
      if (actor === undefined) actors.set(row.actor, (actor = row.actor));
      const payload = projectPayload(kind, row.payload, shared);
      entries.push({ seq: Number(row.seq), time: row.time, kind, actor, payload });
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
