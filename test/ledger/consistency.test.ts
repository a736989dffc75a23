import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sealCheckpoint } from '../../src/ledger/checkpoint.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { MerkleTree, leafHash, verifyConsistency } from '../../src/ledger/merkle.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import type { Store } from '../../src/store/open.ts';
import { runCli } from '../support/cli.ts';
import { testSigner } from '../support/signer.ts';
import { engines, freshStore } from '../support/stores.ts';

const hex = (value: string) => Buffer.from(value, 'hex');

describe.each(engines)('checkpoint consistency on %s', (engine) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let ledger: Ledger;
  const signer = testSigner();

  beforeEach(async () => {
    ({ store, dispose } = await freshStore(engine));
    ledger = new Ledger(store);
  });
  afterEach(() => dispose());

  /** Appends `counts[i]` entries, then seals, for each i: checkpoints at the running totals. */
  async function sealInSteps(counts: number[]) {
    for (const count of counts) {
      for (let i = 0; i < count; i += 1) {
        await ledger.append({ kind: 'test.event', subject: 's', actor: 'tester', payload: { i } });
      }
      await ledger.seal(signer);
    }
  }

  it('verifies every checkpoint against the next by a consistency proof', async () => {
    await sealInSteps([5, 7, 1, 19]);

    const result = await verifyLedger(store, signer.publicKeyPem);

    expect(result).toMatchObject({ ok: true, entries: 32, checkpoints: 4, problems: [] });
  });

  it('proves an older size consistent with the latest checkpoint, verifiably offline', async () => {
    await sealInSteps([5, 7, 1]);
    const [first] = await ledger.checkpoints();

    const proof = await ledger.proveConsistency(5);

    expect(proof).toMatchObject({ fromSize: 5, toSize: 13, fromRoot: first!.rootHash });
    expect(proof.checkpoint.treeSize).toBe(13);
    const { rootHash } = proof.checkpoint;
    expect(
      verifyConsistency(5, 13, hex(first!.rootHash), hex(rootHash), proof.proof.map(hex)),
    ).toBe(true);
    const toTwelve = await ledger.proveConsistency(5, 12);
    expect(toTwelve.toSize).toBe(12);
    await expect(ledger.proveConsistency(14)).rejects.toMatchObject({ code: 'NOT_SEALED' });
    await expect(ledger.proveConsistency(2, 9)).rejects.toMatchObject({ code: 'NO_CHECKPOINT' });
  });

  it('reports a validly signed checkpoint that does not extend the one before it', async () => {
    await sealInSteps([4, 6, 3]);
    // A key holder re-seals size 10 over a different history: its signature verifies.
    const other = new MerkleTree(
      Array.from({ length: 10 }, (_, i) => leafHash(`${i}`.padStart(64, 'f'))),
    );
    const forged = await sealCheckpoint(
      {
        treeSize: 10,
        rootHash: other.root().toString('hex'),
        headHash: (await ledger.get(10))!.hash,
        time: new Date().toISOString(),
      },
      signer,
    );
    await store.db
      .updateTable('ledger_checkpoints')
      .set({
        root_hash: forged.rootHash,
        time: forged.time,
        envelope: JSON.stringify(forged.envelope),
      })
      .where('tree_size', '=', 10)
      .execute();

    const result = await verifyLedger(store, signer.publicKeyPem);

    expect(result.ok).toBe(false);
    const inconsistent = result.problems.filter((p) => p.code === 'CHECKPOINTS_INCONSISTENT');
    expect(inconsistent.map((p) => p.message)).toEqual([
      'checkpoint 10 does not extend checkpoint 4: no consistency proof verifies',
      'checkpoint 13 does not extend checkpoint 10: no consistency proof verifies',
    ]);
    await expect(ledger.proveConsistency(4, 10)).rejects.toMatchObject({ code: 'PROOF_INVALID' });
  });
});

describe('changeproof ledger prove --from', () => {
  const base = mkdtempSync(join(tmpdir(), 'changeproof-consistency-'));
  const ws = join(base, 'ws');
  const sealedSizes: number[] = [];
  beforeAll(() => {
    expect(runCli(['init', ws]).status).toBe(0);
    for (let round = 0; round < 2; round += 1) {
      expect(runCli(['token', 'issue', 'erin', '-w', ws]).status).toBe(0);
      const sealed = runCli(['ledger', 'seal', '-w', ws, '-o', 'json']);
      expect(sealed.status, sealed.stderr).toBe(0);
      sealedSizes.push((JSON.parse(sealed.stdout) as { treeSize: number }).treeSize);
    }
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('prints a consistency proof that verifies against both signed roots', () => {
    const [first, latest] = sealedSizes as [number, number];

    const result = runCli(['ledger', 'prove', '--from', `${first}`, '-w', ws, '-o', 'json']);

    expect(result.status, result.stderr).toBe(0);
    const proof = JSON.parse(result.stdout) as {
      fromSize: number;
      toSize: number;
      fromRoot: string;
      proof: string[];
      checkpoint: { rootHash: string };
    };
    expect(proof).toMatchObject({ fromSize: first, toSize: latest });
    expect(proof.proof.length).toBeGreaterThan(0);
    const verify = runCli(['ledger', 'verify', '-w', ws, '-o', 'json']);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checkpoints: 2 });
    const roots = [hex(proof.fromRoot), hex(proof.checkpoint.rootHash)] as const;
    expect(verifyConsistency(first, latest, ...roots, proof.proof.map(hex))).toBe(true);
  });

  it('refuses an entry and --from together, and a size past the checkpoint, in one line', () => {
    const both = runCli(['ledger', 'prove', '2', '--from', '1', '-w', ws]);
    expect(both.status).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const latest = sealedSizes[1]!;
    const beyond = runCli(['ledger', 'prove', '--from', `${latest + 1}`, '-w', ws]);
    expect(beyond.status).toBe(2);
    expect(beyond.stderr.trim()).toBe(
      `changeproof: size ${latest + 1} is outside checkpoint ${latest}; use --from 1..${latest}`,
    );
  });
});
