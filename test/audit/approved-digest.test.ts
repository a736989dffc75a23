import { afterEach, describe, expect, it } from 'vitest';
import { runControlAudit } from '../../src/audit/inputs.ts';
import { parseAuditRange } from '../../src/audit/range.ts';
import type { Store } from '../../src/store/open.ts';
import { EvidenceRecorder, hexOf, type FixtureDeployment } from '../support/evidence-fixtures.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { auditInputs } from './audit-fixture.ts';

const QUARTER = parseAuditRange('2026-07-01', '2026-09-30');
const NOW = new Date('2026-10-15T00:00:00Z');
const signer = testSigner();
const FORGED = `sha256:${hexOf('forged desired state')}`;

describe('approved = applied = verified live', () => {
  let store: Store;
  let dispose: (() => Promise<void>) | undefined;
  let recorder: EvidenceRecorder;

  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  const start = async () => {
    ({ store, dispose } = await freshStore('sqlite'));
    recorder = new EvidenceRecorder(store, new Date('2026-07-02T09:00:00Z'), signer);
  };
  const controlAudit = () =>
    runControlAudit(auditInputs(store, signer, NOW), { range: QUARTER, envs: ['prod'] });

  /** A sync of the approved merge that applied another desired state, verified against it. */
  const forgedSync = async (of: FixtureDeployment, n: number) => {
    const deployment = `${of.app}/${n}`;
    const payload = { deployment, app: of.app, configCommit: of.configCommit };
    await recorder.record('sync.started', `deployment:${deployment}`, 'system:reconciler', {
      ...payload,
      initiator: 'system:reconciler',
    });
    const sync = await recorder.record('sync.completed', `deployment:${deployment}`, 'mallory', {
      ...payload,
      env: 'prod',
      service: 'checkout',
      change: of.change,
      images: [{ name: 'checkout', digest: of.digest, signedBy: 'pipeline-key' }],
      desiredDigest: FORGED,
      liveDigest: FORGED,
      startedAt: recorder.at(-1000),
      finishedAt: recorder.at(),
      initiator: 'mallory',
      health: 'Healthy',
    });
    await recordVerification(of, FORGED);
    return { deployment, seq: sync.seq };
  };

  const recordVerification = (of: FixtureDeployment, desiredDigest: string) =>
    recorder.record('verification.sealed', `app:${of.app}`, 'system:verifier', {
      app: of.app,
      configCommit: of.configCommit,
      desiredDigest,
      liveDigest: desiredDigest,
      equal: true,
      attestation: { unsigned: true },
    });

  it('passes a deployment whose approved, applied and verified digests agree', async () => {
    await start();
    const clean = await recorder.deployment(1);

    const { deployments, report } = await controlAudit();

    const [answer] = deployments;
    expect(answer!.proof).toMatchObject({ verdict: 'consistent', reasons: [] });
    expect(answer!.proof.approvedDigest).toBe(`sha256:${hexOf('desired-1')}`);
    expect(answer!.proof.appliedDigest).toBe(answer!.proof.approvedDigest);
    expect(report.outcomes.filter((o) => o.control === 'CP-11')).toEqual([
      expect.objectContaining({ subject: `application:${clean.app}`, status: 'pass' }),
    ]);
  });

  it('reports a sync that applied another digest than the approved one (CP-11)', async () => {
    await start();
    const clean = await recorder.deployment(1);
    const forged = await forgedSync(clean, 2);

    const { deployments, report } = await controlAudit();

    const answer = deployments.find((d) => d.id === forged.deployment)!;
    expect(answer.proof.verdict).toBe('mismatch');
    expect(answer.proof.reasons).toContain(
      `applied ${FORGED.slice(7, 19)} is not the approved ${hexOf('desired-1').slice(0, 12)}`,
    );
    const cp11 = report.failures.filter((f) => f.control === 'CP-11');
    expect(cp11).toEqual([
      expect.objectContaining({
        subject: `application:${clean.app}`,
        reason: expect.stringMatching(
          new RegExp(`^${forged.deployment}: applied [0-9a-f]{12} is not the approved`),
        ),
      }),
    ]);
    expect(cp11[0]!.evidence).toEqual(expect.arrayContaining([clean.seqs.merged, forged.seq]));
  });

  it('reports a verification that held live to another digest than the one applied', async () => {
    await start();
    const clean = await recorder.deployment(1);
    const stray = await recordVerification(clean, FORGED);

    const { deployments, report } = await controlAudit();

    expect(deployments[0]!.proof.verdict).toBe('mismatch');
    const [cp11] = report.failures.filter((f) => f.control === 'CP-11');
    expect(cp11!.reason).toMatch(
      new RegExp(`verification ${stray.seq} checked live against ${FORGED.slice(7, 19)}`),
    );
  });
});
