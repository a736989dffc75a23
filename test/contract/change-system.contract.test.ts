import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceNowChangeSystem } from '../../src/adapters/servicenow/index.ts';
import { NativeChangeSystem } from '../../src/change/native.ts';
import type { ChangeSystem, OpenChangeRequest } from '../../src/domain/change-system.ts';
import { ServiceNowEmulator } from '../emulators/servicenow/server.ts';
import { freshStore } from '../support/stores.ts';

/*
 * The ChangeSystem contract: the native change records and ServiceNow behave the same through
 * the port, so change management works unchanged in either mode.
 */
const servicenow = new ServiceNowEmulator({ changeproof: 'pw' });
const disposers: (() => Promise<void>)[] = [];

const implementations: [string, () => Promise<ChangeSystem>][] = [
  [
    'native',
    async () => {
      const { store, dispose } = await freshStore('sqlite');
      disposers.push(dispose);
      return new NativeChangeSystem(store);
    },
  ],
  [
    'servicenow',
    async () =>
      new ServiceNowChangeSystem({
        instanceUrl: servicenow.url,
        credentials: { kind: 'basic', user: 'changeproof', password: 'pw' },
        backoffMs: 1,
      }),
  ],
];

beforeAll(async () => {
  await servicenow.start();
});
afterAll(async () => {
  await servicenow.stop();
  for (const dispose of disposers) await dispose();
});

let proposalSeq = 0;
function request(overrides: Partial<OpenChangeRequest> = {}): OpenChangeRequest {
  return {
    type: 'normal',
    proposal: `p-${++proposalSeq}`,
    service: 'payments',
    env: 'prod',
    shortDescription: 'payments v2 to prod',
    description: 'image bump',
    evidence: {
      artifact: 'reg/payments@sha256:bb',
      sbomDigest: 'sha256:cc',
      signer: 'pipeline-key',
      scanVerdict: 'pass',
    },
    cabRequired: true,
    ...overrides,
  };
}

describe.each(implementations)('ChangeSystem contract: %s', (_, create) => {
  let changes: ChangeSystem;
  beforeAll(async () => {
    changes = await create();
  });

  it('opens a change in New with the artifact evidence and finds it by proposal', async () => {
    const opened = await changes.open(request());

    expect(opened).toMatchObject({
      type: 'normal',
      state: 'New',
      stateCode: -5,
      service: 'payments',
      env: 'prod',
      cabRequired: true,
      retroactive: false,
      approvals: [],
    });
    expect(opened.evidence).toEqual({
      artifact: 'reg/payments@sha256:bb',
      sbomDigest: 'sha256:cc',
      signer: 'pipeline-key',
      scanVerdict: 'pass',
    });
    expect(opened.number).toMatch(/^CHG\d{7}$/);
    expect((await changes.findByProposal(opened.proposal))?.number).toBe(opened.number);
    expect(await changes.findByProposal('never-opened')).toBeUndefined();
  });

  it('moves one step at a time along the normal path and closes with a close code', async () => {
    const { number } = await changes.open(request());
    await expect(changes.transition(number, 'Implement')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });

    for (const state of ['Assess', 'Authorize', 'Scheduled', 'Implement', 'Review'] as const) {
      expect((await changes.transition(number, state)).state).toBe(state);
    }
    const closed = await changes.transition(number, 'Closed', {
      closeCode: 'successful',
      closeNotes: 'live state verified',
    });
    expect(closed).toMatchObject({
      state: 'Closed',
      stateCode: 3,
      closeCode: 'successful',
      closeNotes: 'live state verified',
    });
    await expect(changes.transition(number, 'Canceled')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
  });

  it('keeps approvals with approver, role and state', async () => {
    const { number } = await changes.open(request());
    const approved = await changes.recordApproval(number, {
      approver: 'carol',
      role: 'cab',
      state: 'approved',
      at: '2025-03-01T10:00:00.000Z',
      comments: 'ok',
    });

    expect(approved.approvals).toHaveLength(1);
    expect(approved.approvals[0]).toMatchObject({
      approver: 'carol',
      role: 'cab',
      state: 'approved',
      comments: 'ok',
    });
  });

  it('records an emergency change and its retroactive review', async () => {
    const emergency = {
      declaredBy: 'dave',
      reason: 'payments down',
      reviewDueBy: '2025-03-04T10:00:00.000Z',
      breakGlass: false,
    };
    const { number } = await changes.open(request({ type: 'emergency', emergency }));
    expect((await changes.transition(number, 'Authorize')).state).toBe('Authorize');

    const reviewed = await changes.recordRetroReview(number, {
      reviewer: 'erin',
      outcome: 'accepted',
      at: '2025-03-02T10:00:00.000Z',
    });
    expect(reviewed.emergency).toMatchObject({
      declaredBy: 'dave',
      reason: 'payments down',
      review: { reviewer: 'erin', outcome: 'accepted' },
    });
    const normal = await changes.open(request());
    await expect(
      changes.recordRetroReview(normal.number, { reviewer: 'erin', outcome: 'accepted', at: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_EMERGENCY' });
  });

  it('keeps the commit a self-approved break-glass covered, through the retroactive review', async () => {
    const commit = 'c'.repeat(40);
    const emergency = {
      declaredBy: 'dave',
      reason: 'alone on call',
      reviewDueBy: '2025-03-04T10:00:00.000Z',
      breakGlass: false,
      selfApproval: { commit },
    };
    const { number } = await changes.open(request({ type: 'emergency', emergency }));
    expect((await changes.get(number)).emergency?.selfApproval).toEqual({ commit });
    const reviewed = await changes.recordRetroReview(number, {
      reviewer: 'erin',
      outcome: 'rejected',
      at: '2025-03-02T10:00:00.000Z',
    });
    expect(reviewed.emergency).toMatchObject({ selfApproval: { commit }, breakGlass: false });
    const plain = await changes.open(
      request({ type: 'emergency', emergency: { ...emergency, selfApproval: undefined } }),
    );
    expect((await changes.get(plain.number)).emergency?.selfApproval).toBeUndefined();
  });

  it('schedules a window, lists by state and refuses an unknown number', async () => {
    const { number } = await changes.open(request({ env: 'staging' }));
    const scheduled = await changes.schedule(number, {
      start: '2025-03-05T20:00:00.000Z',
      end: '2025-03-05T22:00:00.000Z',
    });
    expect(scheduled.plannedStart).toBe('2025-03-05T20:00:00.000Z');

    const staging = await changes.list({ env: 'staging', state: 'New' });
    expect(staging.map((c) => c.number)).toContain(number);
    await expect(changes.get('CHG9999999')).rejects.toMatchObject({ code: 'UNKNOWN_CHANGE' });
  });
});
