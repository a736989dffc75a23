import type { Store } from '../store/open.ts';
import { checkCheckpoint, type Checkpoint } from './checkpoint.ts';
import { GENESIS_HASH, hashStoredEntry } from './entry.ts';
import { CheckpointConsistency } from './consistency.ts';
import { leafHash } from './merkle.ts';
import { forEachEntryRow, rowToCheckpoint } from './rows.ts';
import type { LedgerEntryRow } from '../store/schema.ts';

export type LedgerProblemCode =
  | 'ENTRY_ALTERED'
  | 'CHAIN_BROKEN'
  | 'SEQUENCE_GAP'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINTS_INCONSISTENT'
  | 'TAIL_TRUNCATED';

export interface LedgerProblem {
  code: LedgerProblemCode;
  /** The entry where the problem shows, when it is about an entry. */
  seq?: number;
  /** The checkpoint's tree size, when it is about a checkpoint. */
  checkpoint?: number;
  message: string;
}

export interface LedgerVerification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** The first problem in ledger order: what `ledger verify` names. */
  firstProblem?: LedgerProblem;
  problems: LedgerProblem[];
}

const MAX_PROBLEMS = 100;

/**
 * Re-hashes the whole chain, checks every link and sequence number, recomputes the Merkle root
 * at each checkpoint's size, checks each checkpoint's signature with the control-plane key, and
 * verifies an RFC 9162 consistency proof from each checkpoint to the next.
 * It streams, holding O(log n) hashes, so a million entries verify in one pass.
 */
export async function verifyLedger(
  store: Store,
  publicKeyPem: string,
): Promise<LedgerVerification> {
  const checkpoints = (
    await store.db.selectFrom('ledger_checkpoints').selectAll().orderBy('tree_size').execute()
  ).map(rowToCheckpoint);
  const walk = new ChainWalk(checkpoints, publicKeyPem);
  await forEachEntryRow(store.db, undefined, (row) => walk.visit(row));
  walk.finish();
  const problems = walk.problems.slice(0, MAX_PROBLEMS);
  return {
    ok: problems.length === 0,
    entries: walk.count,
    checkpoints: checkpoints.length,
    firstProblem: problems[0],
    problems,
  };
}

/** One streaming pass over the chain; exported so a reader can verify while it loads (audit). */
export class ChainWalk {
  readonly problems: LedgerProblem[] = [];
  count = 0;
  private expectedSeq = 1;
  private previousHash = GENESIS_HASH;
  private readonly consistency: CheckpointConsistency;
  private nextCheckpoint = 0;

  constructor(
    private readonly checkpoints: Checkpoint[],
    private readonly publicKeyPem: string,
  ) {
    this.consistency = new CheckpointConsistency(checkpoints);
    for (const checkpoint of checkpoints) {
      const reason = checkCheckpoint(checkpoint, publicKeyPem);
      if (reason) this.report('CHECKPOINT_INVALID', { checkpoint: checkpoint.treeSize }, reason);
    }
  }

  visit(row: LedgerEntryRow): void {
    const seq = Number(row.seq);
    this.count += 1;
    if (seq !== this.expectedSeq) {
      this.report('SEQUENCE_GAP', { seq }, `entries ${this.expectedSeq}..${seq - 1} are missing`);
    }
    if (row.prev !== this.previousHash) {
      this.report('CHAIN_BROKEN', { seq }, `entry ${seq} does not link to the entry before it`);
    }
    // Fields named one by one: spreading the row costs twice the hashing itself.
    const { time, kind, subject, actor, prev } = row;
    const parts = { seq, time, kind, subject, actor, payloadJson: row.payload, prev };
    if (hashStoredEntry(parts) !== row.hash) {
      this.report('ENTRY_ALTERED', { seq }, `entry ${seq} does not match its hash (edited)`);
    }
    this.expectedSeq = seq + 1;
    this.previousHash = row.hash;
    // The Merkle root is only compared at checkpoints: past the last one there is nothing to
    // compare it with, and the hash chain alone covers the tail.
    if (this.nextCheckpoint < this.checkpoints.length) {
      this.consistency.accumulator.add(leafHash(row.hash));
      this.checkSealedPrefix(seq, row.hash);
    }
  }

  finish(): void {
    for (const checkpoint of this.checkpoints.slice(this.nextCheckpoint)) {
      this.report(
        'TAIL_TRUNCATED',
        { checkpoint: checkpoint.treeSize, seq: this.count + 1 },
        `checkpoint ${checkpoint.treeSize} sealed entries beyond entry ${this.count}: the tail was removed`,
      );
    }
  }

  private checkSealedPrefix(seq: number, hash: string): void {
    const checkpoint = this.checkpoints[this.nextCheckpoint];
    const { accumulator } = this.consistency;
    if (!checkpoint || checkpoint.treeSize !== accumulator.size) return;
    this.nextCheckpoint += 1;
    const root = accumulator.root().toString('hex');
    if (root !== checkpoint.rootHash || hash !== checkpoint.headHash) {
      this.report(
        'CHECKPOINT_MISMATCH',
        { checkpoint: checkpoint.treeSize, seq },
        `entries up to ${seq} no longer match checkpoint ${checkpoint.treeSize}`,
      );
    }
    const inconsistent = this.consistency.checkAt(checkpoint.treeSize);
    if (inconsistent) {
      this.report(
        'CHECKPOINTS_INCONSISTENT',
        { checkpoint: inconsistent.to, seq },
        `checkpoint ${inconsistent.to} does not extend checkpoint ${inconsistent.from}: no consistency proof verifies`,
      );
    }
  }

  private report(code: LedgerProblemCode, where: Partial<LedgerProblem>, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ code, ...where, message });
  }
}
