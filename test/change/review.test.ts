import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { createTestBed, propose, type TestBed } from './helpers.ts';

describe('review and separation of duties', () => {
  let bed: TestBed;
  // Every refusal this file provokes, to hold against the ledger at the end.
  const provoked: string[] = [];
  const refuses = async (promise: Promise<unknown>, code: string) => {
    await expect(promise).rejects.toMatchObject({ code });
    provoked.push(code);
  };

  beforeAll(async () => {
    bed = await createTestBed();
  });
  afterAll(() => bed.dispose());

  it('refuses self-approval, then merges a production change approved by CAB', async () => {
    await bed.bump('prod-1', 'prod', 'v1.0.1');
    const proposal = await propose(bed, 'prod-1', 'alice');
    expect(proposal).toMatchObject({ env: 'prod', service: 'checkout', routine: true });

    await refuses(bed.cm.service.approve(bed.as('alice'), proposal.id), 'SELF_APPROVAL');
    await refuses(bed.cm.service.merge(bed.as('alice'), proposal.id), 'APPROVALS_REQUIRED');

    const { gate } = await bed.cm.service.approve(bed.as('carol'), proposal.id);
    expect(gate).toMatchObject({ state: 'success', rule: 'approved' });
    const change = await bed.cm.context.changeSystem.findByProposal(proposal.id);
    expect(change).toMatchObject({ type: 'normal', state: 'Scheduled', cabRequired: true });

    const merged = await bed.cm.service.merge(bed.as('alice'), proposal.id);
    expect(merged).toMatchObject({ state: 'merged', mergeCommit: proposal.headCommit });
    expect(await bed.mainHead()).toBe(proposal.headCommit);
    const implemented = await bed.cm.context.changeSystem.get(change!.number);
    expect(implemented).toMatchObject({ state: 'Implement', stateCode: -1 });
    expect(implemented.approvals).toMatchObject([{ approver: 'carol', role: 'cab' }]);
    expect(implemented.evidence).toMatchObject({ scanVerdict: 'pass', signer: 'pipeline' });

    const [entry] = await bed.ws.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${proposal.id}`,
    });
    expect(evidenceOf(entry!, 'proposal.merged')).toMatchObject({
      path: 'normal',
      change: change!.number,
      approvals: [{ reviewer: 'carol', roles: ['cab', 'approver'], commit: proposal.headCommit }],
      commitSignedBy: 'pipeline',
    });
    const states = await bed.ws.ledger.list({
      kind: 'change.state',
      subject: `change:${change!.number}`,
    });
    expect(states.map((e) => evidenceOf(e, 'change.state')?.to)).toEqual([
      'Assess',
      'Authorize',
      'Scheduled',
      'Implement',
    ]);
  });

  it('dismisses an approval when new commits are pushed', async () => {
    const first = await bed.bump('prod-2', 'prod', 'v1.0.2');
    const proposal = await propose(bed, 'prod-2');
    expect((await bed.cm.service.approve(bed.as('carol'), proposal.id)).gate.state).toBe('success');

    const second = await bed.bump('prod-2', 'prod', 'v1.0.3', first);
    const pushed = await bed.cm.service.recordPush(bed.as('dave'), proposal.id);
    expect(pushed).toMatchObject({ headCommit: second, lastPusher: 'dave' });
    const reviews = await bed.cm.forge.listReviews(proposal.id);
    expect(reviews.map((r) => r.state)).toEqual(['dismissed']);
    const [push] = await bed.ws.ledger.list({
      kind: 'proposal.pushed',
      subject: `proposal:${proposal.id}`,
    });
    expect(evidenceOf(push!, 'proposal.pushed')?.dismissedApprovals).toEqual(['carol']);

    await refuses(bed.cm.service.merge(bed.as('alice'), proposal.id), 'APPROVALS_REQUIRED');
    await refuses(bed.cm.service.approve(bed.as('carol'), proposal.id, first), 'NOT_HEAD');
    await refuses(bed.cm.service.approve(bed.as('dave'), proposal.id), 'LAST_PUSHER_APPROVAL');
    expect((await bed.cm.forge.listReviews(proposal.id)).length).toBe(1);
    expect(await bed.mainHead()).not.toBe(second);

    await bed.cm.service.approve(bed.as('carol'), proposal.id, second);
    expect((await bed.cm.service.merge(bed.as('alice'), proposal.id)).state).toBe('merged');
  });

  it('needs the non-routine approvals for a diff beyond image references', async () => {
    const path = 'apps/checkout/overlays/prod/kustomization.yaml';
    const overlay = await bed.readMain(path);
    await bed.edit('prod-3', {
      [path]: overlay.replace('namespace: checkout-prod', 'namespace: checkout-live'),
    });
    const proposal = await propose(bed, 'prod-3');
    expect(proposal.routine).toBe(false);

    const first = await bed.cm.service.approve(bed.as('carol'), proposal.id);
    expect(first.gate).toMatchObject({ state: 'pending', rule: 'approvals-required' });
    expect(first.gate.description).toMatch(/1 of 2 approvals for a non-routine change/);
    await refuses(bed.cm.service.merge(bed.as('alice'), proposal.id), 'APPROVALS_REQUIRED');

    const second = await bed.cm.service.approve(bed.as('bob'), proposal.id);
    expect(second.gate).toMatchObject({ state: 'success', rule: 'approved' });
    expect((await bed.cm.service.merge(bed.as('alice'), proposal.id)).state).toBe('merged');
  });

  it('requires CAB in production but approves dev automatically on green checks', async () => {
    await bed.bump('prod-4', 'prod', 'v1.0.4');
    const prod = await propose(bed, 'prod-4');
    const byApprover = await bed.cm.service.approve(bed.as('bob'), prod.id);
    expect(byApprover.gate).toMatchObject({ state: 'pending', rule: 'cab-required' });
    await refuses(bed.cm.service.merge(bed.as('alice'), prod.id), 'CHECKS_REQUIRED');

    await bed.bump('dev-1', 'dev', 'v1.0.4');
    const dev = await propose(bed, 'dev-1');
    const statuses = await bed.cm.forge.listStatuses(dev.headCommit);
    expect(statuses.map((s) => [s.context, s.state])).toEqual([
      ['changeproof/change-approved', 'success'],
      ['changeproof/render', 'success'],
    ]);
    const merged = await bed.cm.service.merge(bed.as('alice'), dev.id);
    expect(merged.state).toBe('merged');
    const [entry] = await bed.ws.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${dev.id}`,
    });
    expect(evidenceOf(entry!, 'proposal.merged')).toMatchObject({
      path: 'automatic',
      approvals: [],
    });
    const verdicts = await bed.ws.ledger.list({
      kind: 'gate.verdict',
      subject: `proposal:${dev.id}`,
    });
    expect(evidenceOf(verdicts.at(-1)!, 'gate.verdict')).toMatchObject({
      state: 'success',
      rule: 'auto-approve-on-green',
      commit: dev.headCommit,
    });
  });

  it('lets no developer approve production and no auditor change anything', async () => {
    await bed.bump('prod-5', 'prod', 'v1.0.5');
    const proposal = await propose(bed, 'prod-5');
    await refuses(bed.cm.service.approve(bed.as('dave'), proposal.id), 'ROLE_REQUIRED');
    await refuses(bed.cm.service.approve(bed.as('erin'), proposal.id), 'ROLE_REQUIRED');
    await refuses(
      bed.cm.service.review(bed.as('erin'), proposal.id, { state: 'commented' }),
      'ROLE_REQUIRED',
    );
    await refuses(bed.cm.service.merge(bed.as('erin'), proposal.id), 'ROLE_REQUIRED');
    await refuses(
      bed.cm.service.openProposal(bed.as('erin'), {
        title: 't',
        description: '',
        branch: 'prod-5',
      }),
      'ROLE_REQUIRED',
    );
    expect((await bed.cm.service.showProposal(bed.as('erin'), proposal.id)).reviews).toEqual([]);
    expect((await bed.cm.service.listChanges(bed.as('erin'))).length).toBeGreaterThan(0);
  });

  it('refuses to merge an unknown proposal and leaves main where it was', async () => {
    const before = await bed.mainHead();
    await refuses(bed.cm.service.merge(bed.as('alice'), '999'), 'UNKNOWN_PROPOSAL');
    expect(await bed.mainHead()).toBe(before);
  });

  it('has a ledger entry for every refusal', async () => {
    const entries = await bed.ws.ledger.list({ kind: 'proposal.refused' });
    const recorded = entries.map((e) => evidenceOf(e, 'proposal.refused')!.code);
    expect(recorded.sort()).toEqual([...provoked].sort());
    expect(provoked.length).toBeGreaterThanOrEqual(12);
  });
});
