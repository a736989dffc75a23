import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runControlAudit, runDeploymentAudit } from '../../src/audit/inputs.ts';
import { parseAuditRange } from '../../src/audit/range.ts';
import { requirePopulation } from '../../src/audit/audit.ts';
import type { Store } from '../../src/store/open.ts';
import { EvidenceRecorder, type FixtureDeployment } from '../support/evidence-fixtures.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { auditInputs } from './audit-fixture.ts';

const QUARTER = parseAuditRange('2026-07-01', '2026-09-30');
const NOW = new Date('2026-10-15T00:00:00Z');
const signer = testSigner();

describe('audit deployments', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let recorder: EvidenceRecorder;
  const d: Record<string, FixtureDeployment> = {};
  let clusterOnlySeq: number;

  beforeAll(async () => {
    ({ store, dispose } = await freshStore('sqlite'));
    recorder = new EvidenceRecorder(store, new Date('2026-06-30T08:00:00Z'), signer);
    d.june = await recorder.deployment(1); // before the quarter: outside the range
    recorder.clock = new Date('2026-07-02T09:00:00Z');
    d.clean = await recorder.deployment(2);
    recorder.advance(86_400_000);
    d.selfApproval = await recorder.deployment(3, { selfApprovalBreakGlass: true });
    recorder.advance(86_400_000);
    d.drift = await recorder.deployment(4, { drift: true });
    recorder.advance(86_400_000);
    d.overdue = await recorder.deployment(5, { emergency: 'overdue', service: 'search' });
    recorder.advance(86_400_000);
    d.reviewed = await recorder.deployment(6, { emergency: 'reviewed', service: 'search' });
    recorder.advance(86_400_000);
    d.staging = await recorder.deployment(7, { env: 'staging' });
    recorder.advance(86_400_000);
    clusterOnlySeq = await recorder.clusterOnlyChange('prod/checkout');
    recorder.advance(86_400_000);
    d.rollback = await recorder.deployment(8, { rollback: true });
  });
  afterAll(() => dispose());

  const audit = () =>
    runDeploymentAudit(auditInputs(store, signer, NOW), { range: QUARTER, envs: ['prod'] });

  it('takes the population from syncs and the cluster, not from change records', async () => {
    const { deployments } = await audit();
    expect(deployments.map((x) => x.id)).toEqual([
      d.clean!.deployment,
      d.selfApproval!.deployment,
      d.drift!.deployment,
      d.overdue!.deployment,
      d.reviewed!.deployment,
      `cluster:prod/checkout@${clusterOnlySeq}`,
      d.rollback!.deployment,
    ]);
    const unapproved = deployments.find((x) => x.source === 'cluster')!;
    expect(unapproved.approval.approvals).toEqual([]);
    expect(unapproved.initiator).toBe('kubectl-client-side-apply');
  });

  it('answers who approved, what was deployed and whether live matches approved', async () => {
    const { deployments } = await audit();
    const clean = deployments.find((x) => x.id === d.clean!.deployment)!;

    expect(clean.approval.change).toMatchObject({ id: d.clean!.change, type: 'normal' });
    expect(clean.approval.approvals).toEqual([
      expect.objectContaining({
        identity: 'bob',
        roles: ['approver'],
        team: 'payments',
        source: 'review',
        seq: d.clean!.seqs.review,
      }),
      expect.objectContaining({
        identity: 'carol',
        roles: ['cab'],
        team: 'governance',
        source: 'change',
        seq: d.clean!.seqs.changeApproved,
      }),
    ]);
    expect(clean.approval.proposal).toMatchObject({
      author: 'alice',
      lastPusher: 'alice',
      path: 'normal',
    });
    expect(clean.approval.separationOfDuties.verdict).toBe('pass');

    const [image] = clean.artifact.images;
    expect(image).toMatchObject({
      digest: d.clean!.digest,
      pinned: true,
      signedBy: 'pipeline-key',
      scanVerdict: 'pass',
      run: 'run-2',
      provenanceBuilder: 'https://changeproof.dev/pipeline@v1',
      seq: d.clean!.seqs.deliveryCompleted,
    });
    expect(image!.sbomDigest).toMatch(/^sha256:/);
    expect(clean.artifact.sourceCommits).toHaveLength(1);

    expect(clean.proof.verdict).toBe('consistent');
    expect(clean.proof.approvedDigest).toBe(clean.proof.appliedDigest);
    expect(clean.proof.verifications).toEqual([
      expect.objectContaining({ equal: true, seq: d.clean!.seqs.verification }),
    ]);
    expect(clean.evidence).toEqual(
      expect.arrayContaining([
        d.clean!.syncSeq,
        d.clean!.seqs.merged!,
        d.clean!.seqs.deliveryCompleted!,
      ]),
    );
  });

  it('shows a drift with its incident and how it was resolved', async () => {
    const { deployments } = await audit();
    const drifted = deployments.find((x) => x.id === d.drift!.deployment)!;
    expect(drifted.proof.drifts).toEqual([
      expect.objectContaining({
        seq: d.drift!.seqs.drift,
        fieldManager: 'kubectl-set',
        reverted: expect.objectContaining({ seq: d.drift!.seqs.driftReverted }),
        incident: expect.objectContaining({
          resolution: 'reverted by self-heal',
          seq: d.drift!.seqs.driftIncident,
        }),
      }),
    ]);
    expect(drifted.proof.verdict).toBe('consistent');
  });

  it('marks the rollback deployment', async () => {
    const { deployments } = await audit();
    const rollback = deployments.find((x) => x.id === d.rollback!.deployment)!;
    expect(rollback.rollback).toMatchObject({
      seq: d.rollback!.seqs.rollback,
      toCommit: d.drift!.configCommit,
    });
  });

  it('refuses an empty range and an inverted range with clear errors', async () => {
    expect(() => parseAuditRange('2026-09-30', '2026-07-01')).toThrow(/not before --to/);
    expect(() => parseAuditRange('2026-07-01', '2026-07-01T00:00:00Z')).toThrow(
      expect.objectContaining({ code: 'RANGE_INVERTED' }),
    );
    expect(() => parseAuditRange('yesterday', '2026-07-01')).toThrow(
      expect.objectContaining({ code: 'RANGE_INVALID' }),
    );
    const scope = { range: parseAuditRange('2025-01-01', '2025-03-31'), envs: ['prod'] };
    const { index, deployments } = await runDeploymentAudit(auditInputs(store, signer, NOW), scope);
    expect(deployments).toEqual([]);
    expect(() => requirePopulation(deployments, index, scope)).toThrow(
      expect.objectContaining({
        code: 'EMPTY_POPULATION',
        message: expect.stringMatching(
          /no deployments in prod from 2025-01-01 to 2025-03-31; the ledger holds deployments from 2026-06-30/,
        ),
      }),
    );
  });

  it('refuses an environment the config does not know', async () => {
    await expect(
      runDeploymentAudit(auditInputs(store, signer, NOW), { range: QUARTER, envs: ['prd'] }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_ENVIRONMENT',
    });
  });

  describe('controls', () => {
    const failuresOf = async (control: string) => {
      const { report } = await runControlAudit(auditInputs(store, signer, NOW), {
        range: QUARTER,
        envs: ['prod'],
      });
      return report.failures.filter((f) => f.control === control);
    };

    it('passes the clean deployment on every catalogue control', async () => {
      const { report } = await runControlAudit(auditInputs(store, signer, NOW), {
        range: QUARTER,
        envs: ['prod'],
      });
      const clean = report.failures.filter(
        (f) => f.subject.includes(d.clean!.deployment) || f.subject === `change:${d.clean!.change}`,
      );
      expect(clean).toEqual([]);
      expect(report.controls.map((c) => c.id)).toEqual([
        ...Array.from({ length: 15 }, (_, i) => `CP-${String(i + 1).padStart(2, '0')}`),
        'ACME-PHI-2',
      ]);
      expect(report.controls.find((c) => c.id === 'CP-02')).toMatchObject({
        soc2: ['CC8.1'],
        hitrust: ['09.c'],
      });
    });

    it('flags the self-approval forced through break-glass (CP-02) and the missing prior approval (CP-01)', async () => {
      const sod = await failuresOf('CP-02');
      expect(sod).toHaveLength(1);
      expect(sod[0]!.reason).toMatch(
        /alice approved .* their own proposal, forced through break-glass/,
      );
      expect(sod[0]!.evidence).toEqual(
        expect.arrayContaining([d.selfApproval!.seqs.refused, d.selfApproval!.seqs.breakGlass]),
      );
      const { deployments } = await audit();
      const forced = deployments.find((x) => x.id === d.selfApproval!.deployment)!;
      expect(forced.approval.approvals).toEqual([
        expect.objectContaining({
          identity: 'alice',
          // The roles the break-glass entry recorded, not an assumed on-call role.
          roles: ['developer', 'oncall'],
          source: 'break-glass',
          seq: d.selfApproval!.seqs.breakGlass,
        }),
      ]);
      const cp01 = await failuresOf('CP-01');
      expect(
        cp01.find((f) => f.subject === `deployment:${d.selfApproval!.deployment}`)?.reason,
      ).toMatch(/retroactively/);
    });

    it('flags the overdue retroactive review (CP-05) but not the one reviewed in time', async () => {
      const cp05 = await failuresOf('CP-05');
      expect(cp05.map((f) => f.subject)).toContain(`change:${d.overdue!.change}`);
      expect(cp05.find((f) => f.subject === `change:${d.overdue!.change}`)!.reason).toMatch(
        /overdue since/,
      );
      expect(cp05.map((f) => f.subject)).not.toContain(`change:${d.reviewed!.change}`);
    });

    it('reports a drift as answered when it has an incident and a revert (CP-12), and fails one nobody answered', async () => {
      expect(await failuresOf('CP-12')).toEqual([]);
      const { store: other, dispose: disposeOther } = await freshStore('sqlite');
      try {
        const r = new EvidenceRecorder(other, new Date('2026-07-10T00:00:00Z'), signer);
        const x = await r.deployment(1, { unansweredDrift: true });
        const { report } = await runControlAudit(auditInputs(other, signer, NOW), {
          range: QUARTER,
          envs: ['prod'],
        });
        const cp12 = report.failures.filter((f) => f.control === 'CP-12');
        expect(cp12).toEqual([
          expect.objectContaining({
            subject: `drift:${x.seqs.drift}`,
            reason: expect.stringMatching(/no incident was opened; neither reverted/),
          }),
        ]);
      } finally {
        await disposeOther();
      }
    });

    it('flags the change only the cluster saw (CP-13) with the evidence', async () => {
      const cp13 = await failuresOf('CP-13');
      expect(cp13).toEqual([
        expect.objectContaining({
          evidence: [clusterOnlySeq],
          reason: expect.stringMatching(/kubectl-client-side-apply with no deployment record/),
        }),
      ]);
    });

    it('evaluates the custom CEL control: phi changes need two teams', async () => {
      const phi = await failuresOf('ACME-PHI-2');
      // checkout is phi: the break-glass change had one approver from one team.
      expect(phi.map((f) => f.subject)).toContain('change:CHG-BG-3');
      expect(phi.map((f) => f.subject)).not.toContain(`change:${d.clean!.change}`);
      // search is not phi: never failed by this control.
      expect(phi.map((f) => f.subject)).not.toContain(`change:${d.overdue!.change}`);
    });

    it('flags a broken chain and a gap (CP-14)', async () => {
      const { store: other, dispose: disposeOther } = await freshStore('sqlite');
      try {
        const r = new EvidenceRecorder(other, new Date('2026-07-10T00:00:00Z'), signer);
        await r.deployment(1);
        const x = await r.deployment(2);
        await sql`update ledger_entries set payload = replace(payload, 'bob', 'mallory') where seq = ${x.seqs.review}`.execute(
          other.db,
        );
        let { report } = await runControlAudit(auditInputs(other, signer, NOW), {
          range: QUARTER,
          envs: ['prod'],
        });
        expect(report.failures.filter((f) => f.control === 'CP-14')).toEqual([
          expect.objectContaining({
            evidence: [x.seqs.review],
            reason: expect.stringMatching(/ENTRY_ALTERED/),
          }),
        ]);
        await sql`delete from ledger_entries where seq = ${x.seqs.gate}`.execute(other.db);
        ({ report } = await runControlAudit(auditInputs(other, signer, NOW), {
          range: QUARTER,
          envs: ['prod'],
        }));
        const reasons = report.failures.filter((f) => f.control === 'CP-14').map((f) => f.reason);
        expect(reasons).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/SEQUENCE_GAP/),
            expect.stringMatching(/CHAIN_BROKEN/),
          ]),
        );
      } finally {
        await disposeOther();
      }
    });

    it('refuses a custom control whose CEL does not parse', async () => {
      const inputs = auditInputs(store, signer, NOW);
      inputs.config = {
        ...inputs.config,
        controls: [{ id: 'BAD', description: 'x', subject: 'deployment', expression: 'size(' }],
      };
      await expect(
        runControlAudit(inputs, { range: QUARTER, envs: ['prod'] }),
      ).rejects.toMatchObject({ code: 'CONTROL_INVALID' });
    });
  });
});
