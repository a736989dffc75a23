import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { leafHash, verifyInclusion } from '../../src/ledger/merkle.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { hashStoredEntry } from '../../src/ledger/entry.ts';
import type { Store } from '../../src/store/open.ts';
import { repoRoot } from '../support/cli.ts';
import { testSigner } from '../support/signer.ts';
import { engines, freshStore } from '../support/stores.ts';

const run = promisify(execFile);

describe.each(engines)('ledger on %s', (engine) => {
  let store: Store;
  let url: string;
  let dispose: () => Promise<void>;
  let ledger: Ledger;
  const signer = testSigner();

  beforeEach(async () => {
    ({ store, url, dispose } = await freshStore(engine));
    ledger = new Ledger(store);
  });
  afterEach(() => dispose());

  async function appendN(n: number, kind = 'test.event') {
    for (let i = 1; i <= n; i += 1) {
      await ledger.append({
        kind,
        subject: `thing:${i}`,
        actor: 'tester',
        payload: { i, note: `n${i}` },
      });
    }
  }

  async function verify() {
    return verifyLedger(store, signer.publicKeyPem);
  }

  it('chains entries, lists them by kind and subject, and verifies', async () => {
    await appendN(5);
    await ledger.append({ kind: 'other', subject: 'thing:2', actor: 'tester', payload: {} });
    const all = await ledger.list();
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all[1]!.prev).toBe(all[0]!.hash);
    expect((await ledger.list({ kind: 'other' })).map((e) => e.seq)).toEqual([6]);
    expect((await ledger.list({ subject: 'thing:2' })).map((e) => e.seq)).toEqual([2, 6]);
    expect(await verify()).toMatchObject({ ok: true, entries: 6 });
  });

  it('refuses a record without an actor and stores nothing', async () => {
    await expect(
      ledger.append({ kind: 'k', subject: 's', actor: '', payload: {} }),
    ).rejects.toThrow(/actor/);
    expect(await ledger.head()).toBeUndefined();
  });

  it('seals checkpoints whose inclusion proofs verify against the signed root', async () => {
    await appendN(11);
    const checkpoint = await ledger.seal(signer);
    expect(checkpoint.treeSize).toBe(11);
    const proofs = await ledger.proveInclusion([1, 6, 11]);
    for (const proof of proofs) {
      const path = proof.path.map((h) => Buffer.from(h, 'hex'));
      const root = Buffer.from(checkpoint.rootHash, 'hex');
      expect(
        verifyInclusion(leafHash(proof.entry.hash), proof.leafIndex, proof.treeSize, path, root),
      ).toBe(true);
    }
    await appendN(3);
    await ledger.seal(signer);
    expect(await verify()).toMatchObject({ ok: true, entries: 14, checkpoints: 2 });
  });

  describe('detects tampering', () => {
    beforeEach(async () => {
      await appendN(20);
      await ledger.seal(signer);
      await appendN(5);
    });

    it('an edited payload', async () => {
      await sql`update ledger_entries set payload = ${'{"i":7,"note":"forged"}'} where seq = 7`.execute(
        store.db,
      );
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.firstProblem).toMatchObject({ code: 'ENTRY_ALTERED', seq: 7 });
    });

    it('an edited entry whose hashes were recomputed all along the chain', async () => {
      await rewriteFrom(store, 7, '{"i":7,"note":"forged"}');
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => p.code)).toContain('CHECKPOINT_MISMATCH');
    });

    it('two entries swapped', async () => {
      await sql`update ledger_entries set seq = -1 where seq = 4`.execute(store.db);
      await sql`update ledger_entries set seq = 4 where seq = 5`.execute(store.db);
      await sql`update ledger_entries set seq = 5 where seq = -1`.execute(store.db);
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.firstProblem).toMatchObject({ code: 'CHAIN_BROKEN', seq: 4 });
    });

    it('a deleted entry', async () => {
      await sql`delete from ledger_entries where seq = 12`.execute(store.db);
      const result = await verify();
      expect(result.firstProblem).toMatchObject({ code: 'SEQUENCE_GAP', seq: 13 });
    });

    it('a tail truncated behind a checkpoint', async () => {
      await sql`delete from ledger_entries where seq > 15`.execute(store.db);
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => p.code)).toContain('TAIL_TRUNCATED');
    });

    it('a checkpoint signed by another key', async () => {
      const impostor = testSigner();
      await appendN(1);
      await ledger.seal(impostor);
      const result = await verify();
      expect(result.problems).toContainEqual(
        expect.objectContaining({ code: 'CHECKPOINT_INVALID', checkpoint: 26 }),
      );
    });

    it('a checkpoint whose stored root was changed', async () => {
      await sql`update ledger_checkpoints set root_hash = ${'00'.repeat(32)}`.execute(store.db);
      const result = await verify();
      expect(result.problems.map((p) => p.code)).toContain('CHECKPOINT_INVALID');
    });
  });

  it('never forks or loses entries with parallel appenders in several processes', async () => {
    const workers = 4;
    const perWorker = 40;
    const worker = join(repoRoot, 'test/ledger/fixtures/append-worker.ts');
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        run(process.execPath, ['--import', 'tsx', worker, url, String(w), String(perWorker)], {
          cwd: repoRoot,
        }),
      ),
    );
    const acknowledged = outputs.flatMap((o) => o.stdout.trim().split('\n').map(Number));
    expect(new Set(acknowledged).size).toBe(workers * perWorker);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, entries: workers * perWorker });
    const rows = await ledger.list();
    expect(rows.map((e) => e.seq)).toEqual(
      Array.from({ length: workers * perWorker }, (_, i) => i + 1),
    );
  }, 120_000);
});

/** What a careful attacker with database access does: edit, then re-chain every later entry. */
async function rewriteFrom(store: Store, seq: number, payload: string): Promise<void> {
  const rows = await store.db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('seq', '>=', seq - 1)
    .orderBy('seq')
    .execute();
  let prev = rows[0]!.hash;
  for (const row of rows.slice(1)) {
    const payloadJson = Number(row.seq) === seq ? payload : row.payload;
    const hash = hashStoredEntry({ ...row, seq: Number(row.seq), payloadJson, prev });
    await store.db
      .updateTable('ledger_entries')
      .set({ payload: payloadJson, prev, hash })
      .where('seq', '=', row.seq)
      .execute();
    prev = hash;
  }
}
