import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPack } from '../../src/audit/pack/export.ts';
import { PACK_FILES } from '../../src/audit/pack/layout.ts';
import { verifyPack } from '../../src/audit/pack/verify.ts';
import { readZip, writeZip } from '../../src/audit/pack/zip.ts';
import { parseAuditRange } from '../../src/audit/range.ts';
import type { Store } from '../../src/store/open.ts';
import { EvidenceRecorder } from '../support/evidence-fixtures.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { auditInputs } from './audit-fixture.ts';

const QUARTER = parseAuditRange('2026-07-01', '2026-09-30');
const NOW = new Date('2026-10-15T00:00:00Z');
const signer = testSigner();

/** The byte offset of `needle` inside the stored (uncompressed) file `path` of the zip. */
function offsetIn(zip: Buffer, path: string, needle: string, after = 0): number {
  const name = zip.indexOf(Buffer.from(path));
  const at = zip.indexOf(Buffer.from(needle), Math.max(name, after));
  if (name < 0 || at < 0) throw new Error(`${needle} not found in ${path}`);
  return at;
}

function flip(zip: Buffer, offset: number): Buffer {
  const copy = Buffer.from(zip);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

describe('evidence pack', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let recorder: EvidenceRecorder;
  let pack: Buffer;

  beforeAll(async () => {
    ({ store, dispose } = await freshStore('sqlite'));
    recorder = new EvidenceRecorder(store, new Date('2026-07-02T09:00:00Z'), signer);
    await recorder.deployment(1);
    await recorder.deployment(2, { drift: true });
    await recorder.deployment(3, { emergency: 'overdue', service: 'search' });
    const result = await exportPack(
      auditInputs(store, signer, NOW),
      { range: QUARTER, envs: ['prod'] },
      { ledger: recorder.ledger, signer, now: NOW, pdf: false },
    );
    pack = result.zip;
    expect(result.checkpoint.sealedNow).toBe(true);
  });
  afterAll(() => dispose());

  it('holds the report, population, evidence, proven entries, checkpoint, key and manifest', async () => {
    const files = await readZip(pack);
    expect(files.map((f) => f.path)).toEqual([
      PACK_FILES.manifest,
      PACK_FILES.report,
      PACK_FILES.population,
      PACK_FILES.evidence,
      PACK_FILES.entries,
      PACK_FILES.checkpoint,
      PACK_FILES.publicKey,
    ]);
    const html = files.find((f) => f.path === PACK_FILES.report)!.data.toString();
    expect(html).toContain('<section class="deployment">');
    expect(html).not.toMatch(/<(script|link)\b|src="http/);
    const csv = files.find((f) => f.path === PACK_FILES.population)!.data.toString();
    expect(csv.split('\r\n')[0]).toMatch(/^deployment,source,env,service,deployedAt/);
    expect(csv.trim().split('\r\n')).toHaveLength(4);
  });

  it('verifies offline and warns that the key must be compared with the published one', async () => {
    const result = await verifyPack(pack);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.entries).toBeGreaterThan(30);
    expect(result.attestations).toBe(3);
    expect(result.warnings.join()).toMatch(
      /compare it with the organisation's published control-plane key/,
    );
    expect((await verifyPack(pack, { expectedPublicKey: signer.publicKeyPem })).warnings).toEqual(
      [],
    );
    expect(await verifyPack(pack, { expectedPublicKey: testSigner().publicKeyPem })).toMatchObject({
      ok: false,
      problems: [expect.objectContaining({ code: 'KEY_MISMATCH' })],
    });
  });

  it.each([
    [
      'evidence.json',
      () => offsetIn(pack, PACK_FILES.evidence, '"deployedAt"') + 3,
      'FILE_ALTERED',
    ],
    [
      'a ledger entry',
      () => offsetIn(pack, PACK_FILES.entries, '"reviewer":"bob"') + 13,
      'ENTRY_ALTERED',
    ],
    [
      'the checkpoint signature',
      () => offsetIn(pack, PACK_FILES.checkpoint, '"sig": "') + 12,
      'CHECKPOINT_INVALID',
    ],
    [
      'the HTML report',
      () => offsetIn(pack, PACK_FILES.report, 'Who approved it') + 2,
      'FILE_ALTERED',
    ],
    [
      'the manifest signature',
      () => offsetIn(pack, PACK_FILES.manifest, '"sig":"') + 10,
      'MANIFEST_SIGNATURE',
    ],
    ['a zip header', () => 10, 'ARCHIVE_ALTERED'],
  ])('fails after one changed byte in %s', async (_where, offset, code) => {
    const result = await verifyPack(flip(pack, offset()));
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain(code);
  });

  it('never reports success whichever single byte is changed (sampled across the archive)', async () => {
    for (let offset = 0; offset < pack.length; offset += Math.ceil(pack.length / 97)) {
      const result = await verifyPack(flip(pack, offset));
      expect(result.ok, `byte ${offset}`).toBe(false);
    }
  });

  it('fails a pack without its checkpoint', async () => {
    const files = (await readZip(pack)).filter((f) => f.path !== PACK_FILES.checkpoint);
    const result = await verifyPack(await writeZip(files));
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(
      expect.arrayContaining(['CHECKPOINT_MISSING', 'FILE_MISSING']),
    );
  });

  it('fails a file that is not a zip', async () => {
    expect(await verifyPack(Buffer.from('not a zip'))).toMatchObject({
      ok: false,
      problems: [expect.objectContaining({ code: 'PACK_UNREADABLE' })],
    });
  });

  it('refuses to export from a ledger with a gap', async () => {
    const { store: other, dispose: disposeOther } = await freshStore('sqlite');
    try {
      const r = new EvidenceRecorder(other, new Date('2026-07-10T00:00:00Z'), signer);
      const x = await r.deployment(1);
      await sql`delete from ledger_entries where seq = ${x.seqs.gate}`.execute(other.db);
      await expect(
        exportPack(
          auditInputs(other, signer, NOW),
          { range: QUARTER, envs: ['prod'] },
          { ledger: r.ledger, signer, now: NOW, pdf: false },
        ),
      ).rejects.toMatchObject({
        code: 'LEDGER_BROKEN',
        message: expect.stringMatching(/SEQUENCE_GAP/),
      });
    } finally {
      await disposeOther();
    }
  });

  it('prints the report to PDF with headless Chromium where it is installed', async (context) => {
    const { findChromium } = await import('../../src/audit/pack/pdf.ts');
    if (!findChromium()) return context.skip();
    const result = await exportPack(
      auditInputs(store, signer, NOW),
      { range: QUARTER, envs: ['prod'] },
      { ledger: recorder.ledger, signer, now: NOW },
    );
    const pdf = (await readZip(result.zip)).find((f) => f.path === PACK_FILES.pdf);
    expect(pdf?.data.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await verifyPack(result.zip)).ok).toBe(true);
  }, 120_000);
});
