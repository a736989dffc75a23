import type { Kysely } from 'kysely';
import type { Database, LedgerEntryRow } from '../store/schema.ts';
import type { Store } from '../store/open.ts';
import type { Signer } from '../supply-chain/signer.ts';
import { canonicalize } from './canonical.ts';
import { sealCheckpoint, type Checkpoint } from './checkpoint.ts';
import { GENESIS_HASH, hashStoredEntry, type LedgerEntry, type LedgerRecord } from './entry.ts';
import { LedgerError } from './errors.ts';
import { forEachEntryRow, rowToCheckpoint, rowToEntry } from './rows.ts';
import { MerkleAccumulator, MerkleTree, leafHash, verifyConsistency } from './merkle.ts';

interface PendingAppend {
  records: LedgerRecord[];
  payloadJsons: string[];
  when?: AppendCondition;
  resolve(entries: LedgerEntry[] | undefined): void;
  reject(error: unknown): void;
}

/**
 * Decides, inside the transaction that would write the entries and holding the store's write
 * lock, whether they are written; what it writes commits or rolls back with them.
 */
export type AppendCondition = (db: Kysely<Database>) => Promise<boolean>;

export interface ListQuery {
  kind?: string;
  /** Matches the subject exactly, or every subject under it when it ends with `*`. */
  subject?: string;
  afterSeq?: number;
  limit?: number;
}

/** An entry with the proof that it is in the tree a checkpoint sealed. */
export interface InclusionProof {
  entry: LedgerEntry;
  leafIndex: number;
  treeSize: number;
  /** Hex hashes of the RFC 9162 audit path. */
  path: string[];
  checkpoint: Checkpoint;
}

/** Proof that the first `fromSize` entries are a prefix of the entries a checkpoint sealed. */
export interface ConsistencyProof {
  fromSize: number;
  toSize: number;
  /** Hex root of the first `fromSize` entries: what a checkpoint of that size must have sealed. */
  fromRoot: string;
  /** Hex hashes of the RFC 9162 consistency proof, from `fromSize` to `toSize`. */
  proof: string[];
  /** The checkpoint of `toSize`, whose signed root the proof ends at. */
  checkpoint: Checkpoint;
}

const BATCH_LIMIT = 500;

/**
 * The evidence ledger: an append-only hash chain in the store, sealed at intervals by signed
 * Merkle checkpoints. Appends from one process are group-committed: callers that append while a
 * write is in flight share the next transaction, so throughput grows with concurrency while each
 * caller still waits until its entry is durable. Writers in other processes are serialised by the
 * store's write lock and always extend the chain head they read inside that lock.
 */
export class Ledger {
  private pending: PendingAppend[] = [];
  private flushing = false;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Appends one decision; resolves once it is committed. */
  async append(record: LedgerRecord): Promise<LedgerEntry> {
    const [entry] = (await this.appendAll([record]))!;
    return entry!;
  }

  /**
   * Appends `records` as consecutive entries of one transaction, group-committed like
   * {@link append}. With `when`, they are written only if it resolves true inside that
   * transaction, so a caller can make its own write (a delivery claim) atomic with its evidence.
   * Resolves to the committed entries, or undefined when `when` declined.
   */
  appendAll(records: LedgerRecord[], when?: AppendCondition): Promise<LedgerEntry[] | undefined> {
    let payloadJsons: string[];
    try {
      records.forEach(assertRecord);
      payloadJsons = records.map((record) => canonicalize(record.payload));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ records, payloadJsons, ...(when ? { when } : {}), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    return readHead(this.store.db);
  }

  async get(seq: number): Promise<LedgerEntry | undefined> {
    const row = await this.store.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '=', seq)
      .executeTakeFirst();
    return row && rowToEntry(row);
  }

  async list(query: ListQuery = {}): Promise<LedgerEntry[]> {
    let select = this.store.db.selectFrom('ledger_entries').selectAll().orderBy('seq');
    if (query.kind) select = select.where('kind', '=', query.kind);
    if (query.subject?.endsWith('*')) {
      select = select.where('subject', 'like', `${query.subject.slice(0, -1)}%`);
    } else if (query.subject) {
      select = select.where('subject', '=', query.subject);
    }
    if (query.afterSeq !== undefined) select = select.where('seq', '>', query.afterSeq);
    if (query.limit !== undefined) select = select.limit(query.limit);
    return (await select.execute()).map(rowToEntry);
  }

  /** Seals every entry so far under a checkpoint signed by the control-plane key. */
  async seal(signer: Signer): Promise<Checkpoint> {
    const head = await this.head();
    if (!head) throw new LedgerError('LEDGER_EMPTY', 'the ledger has no entries to seal yet');
    const existing = await this.checkpointAt(head.seq);
    if (existing) return existing;
    const accumulator = new MerkleAccumulator();
    await forEachEntryRow(this.store.db, head.seq, (row) => accumulator.add(leafHash(row.hash)));
    const checkpoint = await sealCheckpoint(
      {
        treeSize: head.seq,
        rootHash: accumulator.root().toString('hex'),
        headHash: head.hash,
        time: this.clock().toISOString(),
      },
      signer,
    );
    await this.store.db
      .insertInto('ledger_checkpoints')
      .values({
        tree_size: checkpoint.treeSize,
        root_hash: checkpoint.rootHash,
        head_hash: checkpoint.headHash,
        time: checkpoint.time,
        key_id: checkpoint.keyId,
        envelope: JSON.stringify(checkpoint.envelope),
      })
      .onConflict((c) => c.column('tree_size').doNothing())
      .execute();
    return checkpoint;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = await this.store.db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .orderBy('tree_size')
      .execute();
    return rows.map(rowToCheckpoint);
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = await this.store.db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && rowToCheckpoint(row);
  }

  /** Proves entries `seqs` against `checkpoint` (the latest by default). */
  async proveInclusion(seqs: number[], checkpoint?: Checkpoint): Promise<InclusionProof[]> {
    const sealedBy = checkpoint ?? (await this.latestCheckpoint());
    if (!sealedBy)
      throw new LedgerError('NO_CHECKPOINT', 'no checkpoint yet: run changeproof ledger seal');
    const leaves: Buffer[] = [];
    const entries = new Map<number, LedgerEntry>();
    const wanted = new Set(seqs);
    await forEachEntryRow(this.store.db, sealedBy.treeSize, (row) => {
      leaves.push(leafHash(row.hash));
      if (wanted.has(row.seq)) entries.set(row.seq, rowToEntry(row));
    });
    const tree = new MerkleTree(leaves);
    return seqs.map((seq) => {
      const entry = entries.get(seq);
      if (!entry) {
        throw new LedgerError(
          'NOT_SEALED',
          `entry ${seq} is not sealed by checkpoint ${sealedBy.treeSize}`,
        );
      }
      const path = tree.inclusionProof(seq - 1).map((hash) => hash.toString('hex'));
      return { entry, leafIndex: seq - 1, treeSize: sealedBy.treeSize, path, checkpoint: sealedBy };
    });
  }

  /**
   * Proves that the first `fromSize` entries are a prefix of those sealed by the checkpoint of
   * `toSize` (the latest by default), so an auditor holding an older checkpoint can check that
   * nothing it sealed changed since. The proof is verified against the signed root before it is
   * returned: a ledger that no longer matches its checkpoint gets no proof.
   */
  async proveConsistency(fromSize: number, toSize?: number): Promise<ConsistencyProof> {
    const sealedBy = await this.sealingCheckpoint(toSize);
    if (fromSize < 1 || fromSize > sealedBy.treeSize) {
      throw new LedgerError(
        'NOT_SEALED',
        `size ${fromSize} is outside checkpoint ${sealedBy.treeSize}; use --from 1..${sealedBy.treeSize}`,
        { category: 'usage' },
      );
    }
    const leaves: Buffer[] = [];
    await forEachEntryRow(this.store.db, sealedBy.treeSize, (row) =>
      leaves.push(leafHash(row.hash)),
    );
    const tree = new MerkleTree(leaves);
    const proof = tree.consistencyProof(fromSize, sealedBy.treeSize);
    const fromRoot = tree.root(fromSize);
    const signedRoot = Buffer.from(sealedBy.rootHash, 'hex');
    if (!verifyConsistency(fromSize, sealedBy.treeSize, fromRoot, signedRoot, proof)) {
      throw new LedgerError(
        'PROOF_INVALID',
        `the entries no longer match checkpoint ${sealedBy.treeSize}; run changeproof ledger verify`,
        { category: 'internal' },
      );
    }
    return {
      fromSize,
      toSize: sealedBy.treeSize,
      fromRoot: fromRoot.toString('hex'),
      proof: proof.map((hash) => hash.toString('hex')),
      checkpoint: sealedBy,
    };
  }

  /** The checkpoint of `treeSize`, or the latest; refuses when there is none. */
  private async sealingCheckpoint(treeSize?: number): Promise<Checkpoint> {
    const checkpoint =
      treeSize === undefined ? await this.latestCheckpoint() : await this.checkpointAt(treeSize);
    if (checkpoint) return checkpoint;
    throw new LedgerError(
      'NO_CHECKPOINT',
      treeSize === undefined
        ? 'no checkpoint yet: run changeproof ledger seal'
        : `no checkpoint of size ${treeSize}; see the sizes in changeproof ledger verify -o json`,
      { category: 'not-found' },
    );
  }

  private async checkpointAt(treeSize: number): Promise<Checkpoint | undefined> {
    const row = await this.store.db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .where('tree_size', '=', treeSize)
      .executeTakeFirst();
    return row && rowToCheckpoint(row);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let appends issued until the event loop's next turn join the first batch: requests that
    // arrived together are each handled in their own callback, and would else commit one by one.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH_LIMIT);
      try {
        const entries = await this.store.exclusive((db) => this.writeBatch(db, batch));
        batch.forEach((item, index) => item.resolve(entries[index]));
      } catch (error) {
        batch.forEach((item) => item.reject(error));
      }
    }
    this.flushing = false;
  }

  private async writeBatch(
    db: Kysely<Database>,
    batch: PendingAppend[],
  ): Promise<(LedgerEntry[] | undefined)[]> {
    let previous = await readHead(db);
    const time = this.clock().toISOString();
    const rows: LedgerEntryRow[] = [];
    const spans: ({ start: number; end: number } | undefined)[] = [];
    for (const { records, payloadJsons, when } of batch) {
      if (when && !(await when(db))) {
        spans.push(undefined);
        continue;
      }
      const start = rows.length;
      records.forEach((record, index) => {
        const parts = {
          seq: previous ? previous.seq + 1 : 1,
          time,
          kind: record.kind,
          subject: record.subject,
          actor: record.actor,
          payloadJson: payloadJsons[index]!,
          prev: previous ? previous.hash : GENESIS_HASH,
        };
        const hash = hashStoredEntry(parts);
        previous = { seq: parts.seq, hash };
        const { payloadJson: payload, ...rest } = parts;
        rows.push({ ...rest, payload, hash });
      });
      spans.push({ start, end: rows.length });
    }
    for (let i = 0; i < rows.length; i += 100) {
      await db
        .insertInto('ledger_entries')
        .values(rows.slice(i, i + 100))
        .execute();
    }
    const entries = rows.map(rowToEntry);
    return spans.map((span) => span && entries.slice(span.start, span.end));
  }
}

async function readHead(db: Kysely<Database>): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('ledger_entries')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

function assertRecord(record: LedgerRecord): void {
  for (const field of ['kind', 'subject', 'actor'] as const) {
    if (typeof record[field] !== 'string' || record[field].length === 0) {
      throw new LedgerError('RECORD_INVALID', `ledger record needs a non-empty ${field}`);
    }
  }
  if (
    typeof record.payload !== 'object' ||
    record.payload === null ||
    Array.isArray(record.payload)
  ) {
    throw new LedgerError('RECORD_INVALID', 'ledger record payload must be a JSON object');
  }
}
