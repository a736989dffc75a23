import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDora } from '../../src/audit/dora.ts';
import { runControlAudit, runDeploymentAudit } from '../../src/audit/inputs.ts';
import { parseAuditRange } from '../../src/audit/range.ts';
import { buildLeadSheet, drawSample } from '../../src/audit/sample.ts';
import type { Store } from '../../src/store/open.ts';
import { EvidenceRecorder } from '../support/evidence-fixtures.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { auditInputs } from './audit-fixture.ts';

const JULY = parseAuditRange('2026-07-06', '2026-07-19'); // two whole weeks, Monday to Sunday
const NOW = new Date('2026-10-15T00:00:00Z');
const HOUR = 3_600_000;
const signer = testSigner();

describe('DORA and sampling', () => {
  let store: Store;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ store, dispose } = await freshStore('sqlite'));
    const r = new EvidenceRecorder(store, new Date('2026-07-06T09:00:00Z'), signer);
    // Week 1: checkout on Mon, Tue, Wed, Thu (lead 1 h, 2 h, 3 h, 4 h); Wednesday's fails,
    // restored after 2 h. Week 2: checkout on Mon, Wed, Fri; search once.
    const days = [0, 1, 2, 3, 7, 9, 11];
    for (const [i, day] of days.entries()) {
      r.clock = new Date(Date.parse('2026-07-06T09:00:00Z') + day * 24 * HOUR);
      await r.deployment(i + 1, {
        leadTimeMs: (i + 1) * HOUR,
        failure: i === 2 ? { restoreMs: 2 * HOUR } : undefined,
      });
    }
    r.clock = new Date('2026-07-15T12:00:00Z');
    await r.deployment(99, { service: 'search', leadTimeMs: -HOUR }); // a clock-skewed commit: dropped
  });
  afterAll(() => dispose());

  it('computes the four keys per service and overall, with a weekly trend', async () => {
    const { index, deployments } = await runDeploymentAudit(auditInputs(store, signer, NOW), {
      range: JULY,
      envs: ['prod'],
    });
    const dora = computeDora(index, deployments, JULY);
    const checkout = dora.groups.find((g) => g.service === 'checkout')!;
    expect(checkout).toMatchObject({
      env: 'prod',
      deployments: 7,
      changes: 7,
      failedChanges: 1,
      incidents: 1,
    });
    expect(checkout.deploymentFrequency).toBe('daily'); // weeks with 4 and 3 deploy days
    expect(checkout.changeFailureRate).toBeCloseTo(1 / 7);
    expect(checkout.timeToRestoreMedianHours).toBeCloseTo(2, 1); // plus the recorder's 30 s step
    // Lead time is measured to the sync's end, a few recorded steps after the clock started.
    expect(checkout.leadTimeMedianHours).toBeGreaterThan(4);
    expect(checkout.leadTimeMedianHours).toBeLessThan(4.2);
    const search = dora.groups.find((g) => g.service === 'search')!;
    expect(search).toMatchObject({ deployments: 1, leadTimeSamples: 0 });
    expect(search.leadTimeMedianHours).toBeUndefined();
    expect(dora.overall.deployments).toBe(8);
    expect(dora.weekly.map((w) => [w.week, w.deployments])).toEqual([
      ['2026-07-06', 4],
      ['2026-07-13', 4],
    ]);
    expect(dora.weekly[0]!.changeFailureRate).toBeCloseTo(1 / 4);
  });

  it('draws the same sample for the same seed and a different one for another seed', () => {
    const a = drawSample(100, 25, 'Q3-2026');
    expect(a).toHaveLength(25);
    expect(new Set(a).size).toBe(25);
    expect(a.every((i) => i >= 0 && i < 100)).toBe(true);
    expect(drawSample(100, 25, 'Q3-2026')).toEqual(a);
    expect(drawSample(100, 25, 'Q3-2027')).not.toEqual(a);
    expect(drawSample(10, 25, 'x')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('writes a lead sheet with population, method, items and each attribute result', async () => {
    const { deployments, report } = await runControlAudit(auditInputs(store, signer, NOW), {
      range: JULY,
      envs: ['prod'],
    });
    const sheet = buildLeadSheet(deployments, report.outcomes, {
      size: 3,
      seed: 's1',
      scope: 'prod, July',
      populationSource: 'ledger',
    });
    expect(sheet).toMatchObject({
      populationSize: 8,
      sampleSize: 3,
      seed: 's1',
      populationSource: 'ledger',
    });
    expect(sheet.method).toMatch(/SHA-256\("<seed>:<i>"\)/);
    expect(sheet.items.map((i) => i.populationNumber)).toEqual(
      drawSample(8, 3, 's1').map((i) => i + 1),
    );
    for (const item of sheet.items) {
      expect(Object.keys(item.results)).toEqual([
        'A1',
        'A2',
        'A3',
        'A4',
        'A5',
        'A6',
        'A7',
        'A8',
        'A9',
      ]);
      expect(item.results.A1).toBe('pass');
      expect(item.results.A5).toBe('n/a');
    }
    expect(() =>
      buildLeadSheet(deployments, report.outcomes, {
        size: 0,
        seed: 's',
        scope: '',
        populationSource: '',
      }),
    ).toThrow(expect.objectContaining({ code: 'SAMPLE_INVALID' }));
  });
});
