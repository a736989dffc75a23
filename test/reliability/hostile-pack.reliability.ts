import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPack } from '../../src/audit/pack/export.ts';
import { verifyPack } from '../../src/audit/pack/verify.ts';
import { readZip, writeZip } from '../../src/audit/pack/zip.ts';
import { parseAuditRange } from '../../src/audit/range.ts';
import { auditInputs } from '../audit/audit-fixture.ts';
import { EvidenceRecorder } from '../support/evidence-fixtures.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { within } from './support/bounded.ts';
import { figures, report } from './support/row.ts';
import { SEED } from './support/prng.ts';

const RUNS = 150;
const NOW = new Date('2026-10-15T00:00:00Z');

describe('hostile input: evidence packs', () => {
  const signer = testSigner();
  let pack: Buffer;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    const recorder = new EvidenceRecorder(fresh.store, new Date('2026-07-02T09:00:00Z'), signer);
    await recorder.deployment(1);
    const result = await exportPack(
      auditInputs(fresh.store, signer, NOW),
      { range: parseAuditRange('2026-07-01', '2026-09-30'), envs: ['prod'] },
      { ledger: recorder.ledger, signer, now: NOW, pdf: false },
    );
    pack = result.zip;
  });
  afterAll(() => dispose());

  const verify = (zip: Buffer, expectedPublicKey?: string) =>
    within(
      10_000,
      verifyPack(zip, expectedPublicKey ? { expectedPublicKey } : {}),
      'pack verification',
    );

  it('never passes an altered, truncated, foreign-keyed or traversing pack, and never throws', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} packs with a flipped byte, ${RUNS} truncated or random, entries named ../, a pack checked against another key, seed ${SEED}`,
    });
    expect((await verify(pack)).ok).toBe(true);

    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: pack.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (offset, mask) => {
          const altered = Buffer.from(pack);
          altered[offset] = altered[offset]! ^ mask;
          const result = await verify(altered);
          expect(result.ok, `byte ${offset} ^ ${mask}`).toBe(false);
          expect(result.problems[0]!.message).not.toContain('\n');
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: pack.length - 1 }).map((end) => pack.subarray(0, end)),
          fc.uint8Array({ maxLength: 4000 }).map((bytes) => Buffer.from(bytes)),
        ),
        async (zip) => {
          expect((await verify(zip)).ok).toBe(false);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );

    const files = await readZip(pack);
    // yazl will not write a ../ name, so write a same-length name and rename it in the bytes.
    const written = await writeZip([
      ...files,
      { path: 'xx/xx/etc/cron.d/evil', data: Buffer.from('x') },
    ]);
    const traversing = Buffer.from(
      written.toString('latin1').replaceAll('xx/xx/', '../../'),
      'latin1',
    );
    const traversal = await verify(traversing);
    expect(traversal.ok).toBe(false);

    const foreign = await verify(pack, testSigner().publicKeyPem);
    expect(foreign.ok).toBe(false);
    figures(context, {
      'altered refused': RUNS,
      'junk refused': RUNS,
      traversal: traversal.problems[0]?.code ?? 'passed',
      'other key': foreign.problems[0]?.code ?? 'passed',
    });
  });
});
