import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCheck } from '../../src/change/checks.ts';
import { readPending } from '../../src/change/context.ts';
import { NativeChangeSystem } from '../../src/change/native.ts';
import type { ChangeSystem } from '../../src/domain/change-system.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { UpstreamError } from '../../src/errors.ts';
import { createTestBed, propose, type TestBed } from './helpers.ts';

const HOUR = 3_600_000;

/** The native change system behind a switch that makes every call fail as if it were down. */
function switchableChangeSystem(inner: () => ChangeSystem) {
  const state = { down: false };
  const system = new Proxy({} as ChangeSystem, {
    get(_target, property) {
      const real = inner();
      const value = real[property as keyof ChangeSystem];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (state.down) {
          return Promise.reject(
            new UpstreamError('servicenow', 'connect ECONNREFUSED 127.0.0.1:443'),
          );
        }
        return (value as (...a: unknown[]) => unknown).apply(real, args);
      };
    },
  });
  return { system, state };
}

describe('emergency changes', () => {
  let bed: TestBed;
  let native: NativeChangeSystem;
  const { system, state } = switchableChangeSystem(() => native);
  /** Branches whose render check fails, so a merge is refused after the gate has passed. */
  const failingRender = new Set<string>();

  beforeAll(async () => {
    bed = await createTestBed({
      changeSystem: system,
      checks: async (gitDir, proposal) =>
        failingRender.has(proposal.branch)
          ? { state: 'failure', description: 'render failed (test)' }
          : renderCheck(gitDir, proposal),
    });
    native = new NativeChangeSystem(bed.ws.store);
  });
  afterAll(() => bed.dispose());

  it('merges with one on-call approval and is overdue until someone else reviews it', async () => {
    await bed.bump('hotfix-1', 'prod', 'v2.0.1');
    const proposal = await propose(bed, 'hotfix-1');
    const normal = await system.findByProposal(proposal.id);

    await expect(
      bed.cm.declareEmergency(bed.as('bob'), { proposal: proposal.id, reason: 'checkout is down' }),
    ).rejects.toMatchObject({ code: 'ROLE_REQUIRED' });

    const started = Date.now();
    const result = await bed.cm.declareEmergency(bed.as('dave'), {
      proposal: proposal.id,
      reason: 'checkout is down',
    });
    expect(result.proposal.state).toBe('merged');
    expect(await bed.mainHead()).toBe(proposal.headCommit);
    expect(result.change).toMatchObject({ type: 'emergency', state: 'Implement' });
    expect(result.change?.approvals).toMatchObject([{ approver: 'dave', role: 'oncall' }]);
    expect((await system.get(normal!.number)).state).toBe('Canceled');
    const due = Date.parse(result.reviewDueBy) - started;
    expect(due).toBeGreaterThan(71.9 * HOUR);
    expect(due).toBeLessThanOrEqual(72 * HOUR + 60_000);

    expect(await bed.cm.overdueRetroReviews(new Date())).toEqual([]);
    const later = new Date(started + 73 * HOUR);
    const findings = await bed.cm.overdueRetroReviews(later);
    expect(findings).toMatchObject([
      { change: result.change!.number, declaredBy: 'dave', control: 'CP-05' },
    ]);

    const number = result.change!.number;
    await expect(
      bed.cm.recordRetroReview(bed.as('dave'), number, { outcome: 'accepted' }),
    ).rejects.toMatchObject({ code: 'ROLE_REQUIRED' });
    await expect(
      bed.cm.recordRetroReview(bed.as('alice'), number, { outcome: 'accepted' }),
    ).rejects.toMatchObject({ code: 'ROLE_REQUIRED' });
    const reviewed = await bed.cm.recordRetroReview(bed.as('bob'), number, {
      outcome: 'accepted',
      notes: 'fix was right',
    });
    expect(reviewed.emergency?.review).toMatchObject({ reviewer: 'bob', outcome: 'accepted' });
    expect(await bed.cm.overdueRetroReviews(later)).toEqual([]);
    await expect(
      bed.cm.recordRetroReview(bed.as('carol'), number, { outcome: 'accepted' }),
    ).rejects.toMatchObject({ code: 'ALREADY_REVIEWED' });

    const [merged] = await bed.ws.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${proposal.id}`,
    });
    expect(evidenceOf(merged!, 'proposal.merged')).toMatchObject({
      path: 'emergency',
      change: number,
    });
  });

  it('refuses an on-call engineer declaring an emergency on their own proposal', async () => {
    await bed.bump('hotfix-2', 'prod', 'v2.0.2');
    const proposal = await propose(bed, 'hotfix-2', 'dave');
    const before = await bed.mainHead();
    await expect(
      bed.cm.declareEmergency(bed.as('dave'), { proposal: proposal.id, reason: 'my own fix' }),
    ).rejects.toMatchObject({ code: 'SELF_APPROVAL', message: /--break-glass/ });
    expect(await bed.mainHead()).toBe(before);
    await bed.cm.service.close(bed.as('dave'), proposal.id);
  });

  it('lets a sole responder break glass on their own change, recorded as a self-approval', async () => {
    await bed.bump('hotfix-4', 'prod', 'v2.0.4');
    const proposal = await propose(bed, 'hotfix-4', 'dave');
    const ledgerAt = (await bed.ws.ledger.head())?.seq ?? 0;
    await expect(
      bed.cm.declareEmergency(bed.as('dave'), { proposal: proposal.id, reason: 'alone at 3am' }),
    ).rejects.toMatchObject({ code: 'SELF_APPROVAL' });

    const result = await bed.cm.declareEmergency(bed.as('dave'), {
      proposal: proposal.id,
      reason: 'alone at 3am',
      breakGlass: true,
    });
    expect(result).toMatchObject({ breakGlass: true, proposal: { state: 'merged' } });
    expect(await bed.mainHead()).toBe(proposal.headCommit);
    // No review by the author exists; the change record names who approved it.
    expect(await bed.cm.forge.listReviews(proposal.id)).toEqual([]);
    expect(result.change).toMatchObject({
      type: 'emergency',
      emergency: {
        declaredBy: 'dave',
        breakGlass: false,
        selfApproval: { commit: proposal.headCommit },
      },
      approvals: [{ approver: 'dave', role: 'oncall' }],
    });

    const entries = (await bed.ws.ledger.list({ subject: `proposal:${proposal.id}` })).filter(
      (e) => e.seq > ledgerAt,
    );
    const kinds = entries.map((e) => e.kind);
    expect(kinds).toContain('proposal.refused');
    expect(entries.find((e) => e.kind === 'change.break-glass')?.payload).toMatchObject({
      actor: 'dave',
      roles: ['oncall', 'developer'],
      selfApproved: true,
      system: 'native',
      headCommit: proposal.headCommit,
    });
    const verdict = entries.filter((e) => e.kind === 'gate.verdict').at(-1);
    expect(verdict?.payload).toMatchObject({ state: 'success', rule: 'break-glass-self-approval' });
    expect(entries.find((e) => e.kind === 'proposal.merged')?.payload).toMatchObject({
      path: 'break-glass',
      approvals: [],
      author: 'dave',
    });
    // Someone other than the sole responder still owes the retroactive review.
    const overdue = await bed.cm.overdueRetroReviews(new Date(Date.now() + 73 * HOUR));
    expect(overdue.find((f) => f.proposal === proposal.id)).toMatchObject({ declaredBy: 'dave' });
  });

  it('breaks glass when the change system is down and records the change once it is back', async () => {
    await bed.bump('hotfix-3', 'prod', 'v2.0.3');
    state.down = true;
    const proposal = await propose(bed, 'hotfix-3');
    const before = await bed.mainHead();

    await expect(
      bed.cm.declareEmergency(bed.as('dave'), {
        proposal: proposal.id,
        reason: 'payments failing',
      }),
    ).rejects.toMatchObject({ code: 'CHANGE_SYSTEM_UNAVAILABLE' });
    expect(await bed.mainHead()).toBe(before);

    const result = await bed.cm.declareEmergency(bed.as('dave'), {
      proposal: proposal.id,
      reason: 'payments failing',
      breakGlass: true,
    });
    expect(result).toMatchObject({ breakGlass: true, proposal: { state: 'merged' } });
    expect(await bed.mainHead()).toBe(proposal.headCommit);
    const [glass] = await bed.ws.ledger.list({
      kind: 'change.break-glass',
      subject: `proposal:${proposal.id}`,
    });
    expect(evidenceOf(glass!, 'change.break-glass')).toMatchObject({
      proposal: proposal.id,
      actor: 'dave',
      reason: 'payments failing',
      system: 'native',
    });
    state.down = false;
    const owed = await bed.cm.overdueRetroReviews(new Date(Date.now() + 73 * HOUR));
    expect(owed.find((f) => f.proposal === proposal.id)).toMatchObject({ declaredBy: 'dave' });

    const [record] = await bed.cm.openOwedChangeRecords();
    expect(record).toMatchObject({
      proposal: proposal.id,
      type: 'emergency',
      retroactive: true,
      state: 'Implement',
      emergency: { breakGlass: true, declaredBy: 'dave' },
    });
    expect(await bed.cm.openOwedChangeRecords()).toEqual([]);
    const [opened] = await bed.ws.ledger.list({
      kind: 'change.opened',
      subject: `change:${record!.number}`,
    });
    expect(evidenceOf(opened!, 'change.opened')?.retroactive).toBe(true);
  });

  it('lets a self break-glass pass the gate for the head it was declared on only', async () => {
    await bed.bump('hotfix-5', 'prod', 'v2.0.5');
    failingRender.add('hotfix-5');
    const proposal = await propose(bed, 'hotfix-5', 'dave');
    const before = await bed.mainHead();
    const lastVerdict = async () =>
      (await bed.ws.ledger.list({ kind: 'gate.verdict', subject: `proposal:${proposal.id}` })).at(
        -1,
      )?.payload;

    // The override passes the gate on the declared head, but the failed render stops the merge.
    await expect(
      bed.cm.declareEmergency(bed.as('dave'), {
        proposal: proposal.id,
        reason: 'alone at 4am',
        breakGlass: true,
      }),
    ).rejects.toMatchObject({ code: 'CHECKS_REQUIRED' });
    expect(await lastVerdict()).toMatchObject({
      commit: proposal.headCommit,
      state: 'success',
      rule: 'break-glass-self-approval',
    });
    const change = await system.findByProposal(proposal.id);
    expect(change?.emergency?.selfApproval).toEqual({ commit: proposal.headCommit });

    // A later push is a commit nobody approved: the open emergency record does not cover it.
    failingRender.delete('hotfix-5');
    const pushed = await bed.bump('hotfix-5', 'prod', 'v2.0.6', proposal.headCommit);
    await bed.cm.service.recordPush(bed.as('dave'), proposal.id);
    expect(await lastVerdict()).toMatchObject({
      commit: pushed,
      state: 'pending',
      rule: 'emergency-oncall',
    });
    const statuses = await bed.cm.forge.listStatuses(pushed);
    expect(statuses.find((s) => s.context === 'changeproof/change-approved')?.state).toBe(
      'pending',
    );
    await expect(bed.cm.service.merge(bed.as('dave'), proposal.id)).rejects.toMatchObject({
      code: 'APPROVALS_REQUIRED',
    });
    expect(await bed.mainHead()).toBe(before);

    // Breaking glass again, on the new head, is a new and recorded override.
    const again = await bed.cm.declareEmergency(bed.as('dave'), {
      proposal: proposal.id,
      reason: 'alone at 4am, second try',
      breakGlass: true,
    });
    expect(again.proposal).toMatchObject({ state: 'merged', headCommit: pushed });
    expect(again.change?.emergency?.selfApproval).toEqual({ commit: pushed });
    const glass = await bed.ws.ledger.list({
      kind: 'change.break-glass',
      subject: `proposal:${proposal.id}`,
    });
    expect(glass.map((e) => e.payload.headCommit)).toEqual([proposal.headCommit, pushed]);
  });

  it('lets a sole responder break glass on their own change while the change system is down', async () => {
    await bed.bump('hotfix-6', 'prod', 'v2.0.7');
    state.down = true;
    const proposal = await propose(bed, 'hotfix-6', 'dave');
    const ledgerAt = (await bed.ws.ledger.head())?.seq ?? 0;

    await expect(
      bed.cm.declareEmergency(bed.as('dave'), { proposal: proposal.id, reason: 'all alone' }),
    ).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    const result = await bed.cm.declareEmergency(bed.as('dave'), {
      proposal: proposal.id,
      reason: 'all alone',
      breakGlass: true,
    });
    expect(result).toMatchObject({ breakGlass: true, proposal: { state: 'merged' } });
    expect(result.change).toBeUndefined();
    expect(await bed.mainHead()).toBe(proposal.headCommit);

    // The gate passed on the owed record's self-approval, tied to the declared head.
    const pending = await readPending(bed.cm.context, proposal.id);
    expect(pending?.breakGlass).toEqual({
      actor: 'dave',
      reason: 'all alone',
      selfApproval: { commit: proposal.headCommit },
    });
    const entries = (await bed.ws.ledger.list({ subject: `proposal:${proposal.id}` })).filter(
      (e) => e.seq > ledgerAt,
    );
    const verdict = entries.filter((e) => e.kind === 'gate.verdict').at(-1);
    expect(verdict?.payload).toMatchObject({
      commit: proposal.headCommit,
      state: 'success',
      rule: 'break-glass-self-approval',
      inputs: { change: null, breakGlass: { actor: 'dave' } },
    });
    const glass = entries.filter((e) => e.kind === 'change.break-glass');
    expect(glass.map((e) => e.payload)).toEqual([
      {
        proposal: proposal.id,
        actor: 'dave',
        roles: ['oncall', 'developer'],
        reason: 'all alone',
        system: 'native',
        headCommit: proposal.headCommit,
        selfApproved: true,
      },
    ]);
    expect(entries.find((e) => e.kind === 'proposal.merged')?.payload).toMatchObject({
      path: 'break-glass',
      approvals: [],
    });

    // Back up: the owed record opens as a retroactive emergency that names the self-approval.
    state.down = false;
    const opened = await bed.cm.openOwedChangeRecords();
    const record = opened.find((c) => c.proposal === proposal.id);
    expect(record).toMatchObject({
      type: 'emergency',
      retroactive: true,
      state: 'Implement',
      emergency: {
        declaredBy: 'dave',
        breakGlass: true,
        selfApproval: { commit: proposal.headCommit },
      },
    });
    expect(await readPending(bed.cm.context, proposal.id)).toBeUndefined();
    const [declared] = await bed.ws.ledger.list({
      kind: 'change.emergency',
      subject: `change:${record!.number}`,
    });
    expect(declared?.actor).toBe('dave');
    const overdue = await bed.cm.overdueRetroReviews(new Date(Date.now() + 73 * HOUR));
    expect(overdue.find((f) => f.proposal === proposal.id)).toMatchObject({
      change: record!.number,
      declaredBy: 'dave',
    });
  });

  it('closes a change successful after a verified sync, unsuccessful with its incident after a failed one', async () => {
    await bed.bump('dev-ok', 'dev', 'v3.0.0');
    const ok = await propose(bed, 'dev-ok');
    await bed.cm.service.merge(bed.as('alice'), ok.id);
    const okChange = (await system.findByProposal(ok.id))!;
    const closed = await bed.cm.lifecycle.onSyncSucceeded(okChange.number, {
      id: 'deployment:dev/checkout/1',
    });
    expect(closed).toMatchObject({
      state: 'Closed',
      stateCode: 3,
      closeCode: 'successful',
      deployment: 'deployment:dev/checkout/1',
    });

    await bed.bump('dev-bad', 'dev', 'v3.0.1');
    const bad = await propose(bed, 'dev-bad');
    await bed.cm.service.merge(bed.as('alice'), bad.id);
    const badChange = (await system.findByProposal(bad.id))!;
    const failed = await bed.cm.lifecycle.onSyncFailed(badChange.number, { id: 'INC0000042' });
    expect(failed).toMatchObject({
      state: 'Closed',
      closeCode: 'unsuccessful',
      incident: 'INC0000042',
    });
    const steps = await bed.ws.ledger.list({
      kind: 'change.state',
      subject: `change:${badChange.number}`,
    });
    expect(steps.map((e) => evidenceOf(e, 'change.state')?.to).slice(-3)).toEqual([
      'Implement',
      'Review',
      'Closed',
    ]);
    await expect(
      bed.cm.lifecycle.onSyncSucceeded(badChange.number, { id: 'x' }),
    ).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
  });
});
