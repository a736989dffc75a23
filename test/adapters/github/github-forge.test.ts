import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  GithubForge,
  GithubWebhookReceiver,
  signWebhook,
  githubProtection,
} from '../../../src/adapters/github/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import type { ForgePolicy } from '../../../src/embedded/forge/index.ts';
import { StoreDeliveryClaims } from '../../../src/adapters/delivery-claims.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import type { Store } from '../../../src/store/open.ts';
import { UpstreamError } from '../../../src/errors.ts';
import { freshStore } from '../../support/stores.ts';
import { GithubEmulator } from '../../emulators/github/server.ts';

const tokens = { 'tok-ci': 'ci-bot', 'tok-bob': 'bob', 'tok-carol': 'carol', 'tok-alice': 'alice' };
const bump = {
  filename: 'apps/payments/overlays/prod/kustomization.yaml',
  patch:
    '@@ -3,2 +3,2 @@\n-    newTag: v1\n+    newTag: v2\n-    digest: sha256:aa\n+    digest: sha256:bb',
};

/** Each person's own token, the pipeline's when none is named. */
const tokenOf = (actor?: string) =>
  actor ? Object.keys(tokens).find((t) => tokens[t as keyof typeof tokens] === actor) : 'tok-ci';

const policy: ForgePolicy = {
  protectionFor: async () => ({
    requiredApprovals: 1,
    requiredContexts: ['changeproof/change-approved'],
    requireSignedCommits: false,
  }),
  rolesOf: (user) => (user === 'bob' ? ['approver'] : ['developer']),
};

describe('GitHub forge', () => {
  const github = new GithubEmulator('acme', 'config', tokens);
  let store: Store;
  let ledger: Ledger;
  let forge: GithubForge;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    await github.start();
  });
  afterAll(async () => {
    await github.stop();
  });
  beforeEach(async () => {
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    store = fresh.store;
    ledger = new Ledger(fresh.store);
    github.clearFaults();
    github.requiredApprovals = 0;
    github.bypassLogins.clear();
    forge = new GithubForge({
      apiUrl: github.url,
      owner: 'acme',
      repo: 'config',
      cloneUrl: 'https://github.com/acme/config.git',
      tokenFor: tokenOf,
      ledger,
      policy,
      backoffMs: 5,
      timeoutMs: 300,
    });
    return () => dispose();
  });

  async function openBump(branch: string) {
    github.push(branch, [bump]);
    return forge.openProposal({
      title: 'payments v2',
      description: 'bump',
      author: 'ci-bot',
      branch,
      evidence: { artifact: 'reg/payments@sha256:bb', signer: 'pipeline' },
    });
  }

  it('opens a pull request as a proposal with its target, routine flag and evidence', async () => {
    const proposal = await openBump('bump-1');

    expect(proposal).toMatchObject({
      service: 'payments',
      env: 'prod',
      routine: true,
      author: 'ci-bot',
      state: 'open',
      evidence: { artifact: 'reg/payments@sha256:bb' },
    });
    expect(proposal.description).toBe('bump');
    const opened = await ledger.list({ kind: 'proposal.opened' });
    expect(opened[0]?.payload).toMatchObject({ proposal: proposal.id, routine: true });
  });

  it('refuses an approval by the author or the last pusher before asking GitHub', async () => {
    const proposal = await openBump('bump-2');
    await expect(
      forge.review(proposal.id, {
        reviewer: 'ci-bot',
        state: 'approved',
        commit: proposal.headCommit,
      }),
    ).rejects.toMatchObject({ code: 'SELF_APPROVAL' });

    const head = github.push('bump-2', [bump]);
    await forge.recordPush(proposal.id, 'carol');
    await expect(
      forge.review(proposal.id, { reviewer: 'carol', state: 'approved', commit: head }),
    ).rejects.toMatchObject({ code: 'LAST_PUSHER_APPROVAL' });
    expect(github.reviews.get(Number(proposal.id)) ?? []).toHaveLength(0);
  });

  it('merges only with an approval of the head and the required check, and snapshots the approval', async () => {
    const proposal = await openBump('bump-3');
    await expect(forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
      code: 'APPROVALS_REQUIRED',
    });

    await forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    await expect(forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
      code: 'CHECKS_REQUIRED',
    });
    await forge.setStatus({
      commit: proposal.headCommit,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'CHG0000001 approved',
    });

    const merged = await forge.merge(proposal.id, 'carol');
    expect(merged.state).toBe('merged');
    expect(merged.mergeCommit).toMatch(/^[0-9a-f]{40}$/);

    // Dismissed on GitHub afterwards: the ledger's snapshot at merge still proves the approval.
    github.dismiss(Number(proposal.id), 'bob');
    const [entry] = await ledger.list({ kind: 'proposal.merged' });
    expect(entry?.payload).toMatchObject({
      headCommit: proposal.headCommit,
      approvals: [{ reviewer: 'bob', roles: ['approver'], commit: proposal.headCommit }],
    });
    const refusals = await ledger.list({ kind: 'proposal.refused' });
    expect(refusals.map((e) => e.payload.code)).toEqual(['APPROVALS_REQUIRED', 'CHECKS_REQUIRED']);
  });

  it('stops counting an approval once new commits are pushed', async () => {
    const proposal = await openBump('bump-4');
    await forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    const head = github.push('bump-4', [bump]);
    await forge.setStatus({
      commit: head,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'ok',
    });

    await expect(forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
      code: 'APPROVALS_REQUIRED',
    });
  });

  it('retries a 502 and a 429 with Retry-After on reads, and reports an outage as UpstreamError', async () => {
    const proposal = await openBump('bump-5');
    github.fail({ status: 502, match: /GET .*\/pulls\/\d+$/ });
    github.fail({ status: 429, retryAfter: '0', match: /GET .*\/pulls\/\d+$/ });
    await expect(forge.getProposal(proposal.id)).resolves.toMatchObject({ id: proposal.id });

    github.fail({ status: 503, match: /GET / }, 10);
    await expect(forge.getProposal(proposal.id)).rejects.toBeInstanceOf(UpstreamError);
    github.clearFaults();

    github.fail({ delayMs: 600, status: 200, match: /GET / }, 10);
    await expect(forge.getProposal(proposal.id)).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    github.clearFaults();
  });

  it('never retries a merge that failed upstream, and never reads an outage as merged', async () => {
    const proposal = await openBump('bump-6');
    await forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    await forge.setStatus({
      commit: proposal.headCommit,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'ok',
    });
    github.fail({ status: 502, match: /PUT .*\/merge$/ });
    const puts = () => github.requests.filter((r) => r.method === 'PUT').length;
    const before = puts();

    await expect(forge.merge(proposal.id, 'carol')).rejects.toBeInstanceOf(UpstreamError);
    expect(puts() - before).toBe(1);
    expect(await ledger.list({ kind: 'proposal.merged' })).toHaveLength(0);
  });

  it('maps bad credentials and a moved head to their codes', async () => {
    const proposal = await openBump('bump-7');
    const stranger = new GithubForge({ ...forgeOptions(), tokenFor: () => 'nope' });
    await expect(stranger.getProposal(proposal.id)).rejects.toMatchObject({
      code: 'GITHUB_UNAUTHORIZED',
    });

    await forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    await forge.setStatus({
      commit: proposal.headCommit,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'ok',
    });
    github.fail({
      status: 409,
      body: { message: 'Head branch was modified' },
      match: /PUT .*\/merge$/,
    });
    await expect(forge.merge(proposal.id, 'carol')).rejects.toMatchObject({ code: 'NOT_HEAD' });
  });

  /** A proposal changeproof would merge: approved by bob on its head, the gate green. */
  async function approvedBump(branch: string) {
    const proposal = await openBump(branch);
    await forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    await forge.setStatus({
      commit: proposal.headCommit,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'ok',
    });
    return proposal;
  }

  describe('when GitHub refuses the merge', () => {
    const selfMerge = { emergency: true, breakGlass: true, selfApproved: true };
    // changeproof lets a sole on-call responder merge their own change without an approval.
    const breakGlassPolicy: ForgePolicy = {
      ...policy,
      protectionFor: async (_proposal, options) => ({
        requiredApprovals: options.breakGlass && options.selfApproved ? 0 : 1,
        requiredContexts: ['changeproof/change-approved'],
        requireSignedCommits: false,
      }),
    };
    const refusalCodes = async () =>
      (await ledger.list({ kind: 'proposal.refused' })).map((entry) => entry.payload.code);

    it('refuses a break-glass self-merge GitHub blocks, naming the bypass actor it needs, and records it', async () => {
      github.requiredApprovals = 1;
      const oncall = new GithubForge({
        ...forgeOptions(),
        tokenFor: tokenOf,
        policy: breakGlassPolicy,
      });
      const proposal = await openBump('bump-self');
      await oncall.setStatus({
        commit: proposal.headCommit,
        context: 'changeproof/change-approved',
        state: 'success',
        description: 'break-glass',
      });

      const refusal = oncall.merge(proposal.id, 'alice', selfMerge);
      await expect(refusal).rejects.toMatchObject({
        code: 'APPROVALS_REQUIRED',
        message: expect.stringMatching(
          /branch protection requires an approving review.*bypass actor/,
        ),
        details: { upstream: 'github', status: 405 },
      });
      await expect(refusal).rejects.toThrow(/^[^\n]+$/);
      expect(await refusalCodes()).toEqual(['APPROVALS_REQUIRED']);
      expect(await ledger.list({ kind: 'proposal.merged' })).toHaveLength(0);
      expect(github.pulls.get(Number(proposal.id))?.merged).toBe(false);

      // With the on-call login allowed to bypass, GitHub merges and the path is break-glass.
      github.bypassLogins.add('alice');
      const merged = await oncall.merge(proposal.id, 'alice', selfMerge);
      expect(merged.state).toBe('merged');
      const [entry] = await ledger.list({ kind: 'proposal.merged' });
      expect(entry?.payload).toMatchObject({ path: 'break-glass', approvals: [] });
    });

    it('asks for a reviewer with write access when GitHub wants more approvals than changeproof', async () => {
      github.requiredApprovals = 2;
      const proposal = await approvedBump('bump-two');

      const refusal = forge.merge(proposal.id, 'carol');
      await expect(refusal).rejects.toMatchObject({ code: 'APPROVALS_REQUIRED' });
      await expect(refusal).rejects.toThrow(/reviewer with write access/);
      await expect(refusal).rejects.not.toThrow(/bypass/);
    });

    it.each([
      [405, 'Base branch was modified. Review and try the merge again.', 'MAIN_MOVED'],
      [405, 'Pull Request is not mergeable', 'MAIN_MOVED'],
      [405, 'Required status check "changeproof/render" is expected.', 'CHECKS_REQUIRED'],
      [409, 'Head branch was modified. Review and try the merge again.', 'NOT_HEAD'],
      [405, 'Merge commits are not allowed on this repository.', 'MERGE_REFUSED'],
    ])('maps %i "%s" to %s and records the refusal', async (status, message, code) => {
      const proposal = await approvedBump(`bump-${code.toLowerCase()}-${status}`);
      github.fail({ status, body: { message }, match: /PUT .*\/merge$/ });

      await expect(forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
        code,
        details: { status, message },
      });
      expect(await refusalCodes()).toEqual([code]);
      expect(github.pulls.get(Number(proposal.id))?.merged).toBe(false);
    });
  });

  function forgeOptions() {
    return {
      apiUrl: github.url,
      owner: 'acme',
      repo: 'config',
      cloneUrl: 'x',
      tokenFor: () => 'tok-ci',
      ledger,
      policy,
      backoffMs: 1,
    };
  }

  describe('webhooks', () => {
    const secret = 'whsec-test';

    function webhookReceiver() {
      const claims = new StoreDeliveryClaims(store, 'github');
      return new GithubWebhookReceiver({ secret, ledger, forge, claims });
    }

    function delivery(id: string, event: string, payload: object, signature?: string | null) {
      const rawBody = Buffer.from(JSON.stringify(payload));
      const headers: Record<string, string> = { 'x-github-delivery': id, 'x-github-event': event };
      if (signature !== null)
        headers['x-hub-signature-256'] = signature ?? signWebhook(secret, rawBody);
      return { headers, rawBody };
    }

    it('records a signed review, ignores its replay, and rejects a bad or missing signature', async () => {
      const proposal = await openBump('bump-8');
      const receiver = webhookReceiver();
      const pull = github.pulls.get(Number(proposal.id))!;
      const payload = {
        action: 'submitted',
        review: {
          id: 1,
          user: { login: 'bob' },
          state: 'APPROVED',
          commit_id: pull.head.sha,
          submitted_at: '2025-03-01T10:00:00Z',
        },
        pull_request: pull,
        sender: { login: 'bob' },
      };

      expect(await receiver.receive(delivery('d-1', 'pull_request_review', payload))).toMatchObject(
        { status: 202, outcome: 'recorded' },
      );
      expect(await receiver.receive(delivery('d-1', 'pull_request_review', payload))).toMatchObject(
        { outcome: 'duplicate' },
      );
      // A second receiver (a restart) still knows the delivery from the ledger.
      expect(
        await webhookReceiver().receive(delivery('d-1', 'pull_request_review', payload)),
      ).toMatchObject({ outcome: 'duplicate' });

      const forged = delivery('d-2', 'pull_request_review', payload, signWebhook('wrong', 'x'));
      expect(await receiver.receive(forged)).toMatchObject({ status: 401, outcome: 'rejected' });
      expect(
        await receiver.receive(delivery('d-3', 'pull_request_review', payload, null)),
      ).toMatchObject({ status: 401, reason: 'X-Hub-Signature-256 is missing' });

      expect(await ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(1);
      const rejected = await ledger.list({ kind: 'webhook.rejected' });
      expect(rejected.map((e) => e.payload.delivery)).toEqual(['d-2', 'd-3']);
    });

    function reviewPayload(pull: object, commit: string) {
      return {
        action: 'submitted',
        review: {
          id: 7,
          user: { login: 'bob' },
          state: 'APPROVED',
          commit_id: commit,
          submitted_at: '2025-03-01T10:00:00Z',
        },
        pull_request: pull,
        sender: { login: 'bob' },
      };
    }

    it('handles one of two concurrent deliveries with the same id, and records it once', async () => {
      const proposal = await openBump('bump-20');
      const receiver = webhookReceiver();
      const pull = github.pulls.get(Number(proposal.id))!;
      const payload = reviewPayload(pull, pull.head.sha);

      const outcomes = await Promise.all([
        receiver.receive(delivery('d-20', 'pull_request_review', payload)),
        receiver.receive(delivery('d-20', 'pull_request_review', payload)),
        receiver.receive(delivery('d-20', 'pull_request_review', payload)),
      ]);

      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'duplicate', 'recorded']);
      expect(await ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(1);
      expect(await ledger.list({ kind: 'webhook.received' })).toHaveLength(1);
    });

    it('records a push to a proposal branch once, from push or pull_request synchronize', async () => {
      const proposal = await openBump('bump-21');
      const receiver = webhookReceiver();
      const before = proposal.headCommit;
      const after = github.push('bump-21', [bump]);
      const pull = github.pulls.get(Number(proposal.id))!;

      const pushed = await receiver.receive(
        delivery('d-21', 'push', {
          ref: 'refs/heads/bump-21',
          before,
          after,
          pusher: { name: 'dave' },
        }),
      );
      const synchronize = await receiver.receive(
        delivery('d-22', 'pull_request', {
          action: 'synchronize',
          pull_request: pull,
          sender: { login: 'dave' },
        }),
      );

      expect([pushed.outcome, synchronize.outcome]).toEqual(['recorded', 'ignored']);
      const pushes = await ledger.list({ kind: 'proposal.pushed' });
      expect(pushes.map((e) => [e.actor, e.payload.headCommit])).toEqual([['dave', after]]);

      // A synchronize for a push no push event told of is recorded from the pull request.
      const next = github.push('bump-21', [bump, bump]);
      expect(
        await receiver.receive(
          delivery('d-23', 'pull_request', {
            action: 'synchronize',
            pull_request: pull,
            sender: { login: 'erin' },
          }),
        ),
      ).toMatchObject({ outcome: 'recorded' });
      const all = await ledger.list({ kind: 'proposal.pushed' });
      expect(all.at(-1)?.payload).toMatchObject({ pusher: 'erin', headCommit: next });
    });

    it('records a self-approval GitHub let through on its own merge button, for the audit', async () => {
      const proposal = await openBump('bump-22');
      const pull = github.pulls.get(Number(proposal.id))!;
      github.reviews.set(pull.number, [
        {
          id: 30,
          user: { login: 'ci-bot' },
          state: 'APPROVED',
          commit_id: pull.head.sha,
          submitted_at: '2025-03-01T10:30:00Z',
        },
      ] as never);
      Object.assign(pull, {
        state: 'closed',
        merged: true,
        merged_at: '2025-03-01T11:00:00Z',
        merge_commit_sha: 'e'.repeat(40),
        merged_by: { login: 'carol' },
      });
      const receiver = webhookReceiver();

      await receiver.receive(
        delivery('d-24', 'pull_request', {
          action: 'closed',
          pull_request: pull,
          sender: { login: 'carol' },
        }),
      );

      const [merged] = await ledger.list({ kind: 'proposal.merged' });
      expect(merged?.payload).toMatchObject({
        author: 'ci-bot',
        path: 'normal',
        approvals: [{ reviewer: 'ci-bot', commit: pull.head.sha }],
      });
    });

    it('snapshots approvals when a pull request is merged on GitHub itself', async () => {
      const proposal = await openBump('bump-9');
      await forge.review(proposal.id, {
        reviewer: 'bob',
        state: 'approved',
        commit: proposal.headCommit,
      });
      const pull = github.pulls.get(Number(proposal.id))!;
      Object.assign(pull, {
        state: 'closed',
        merged: true,
        merged_at: '2025-03-01T11:00:00Z',
        merge_commit_sha: 'c'.repeat(40),
        merged_by: { login: 'carol' },
      });
      const receiver = webhookReceiver();

      await receiver.receive(
        delivery('d-9', 'pull_request', {
          action: 'closed',
          pull_request: pull,
          sender: { login: 'carol' },
        }),
      );
      const [merged] = await ledger.list({ kind: 'proposal.merged' });
      expect(merged?.payload).toMatchObject({
        mergedBy: 'carol',
        mergeCommit: 'c'.repeat(40),
        approvals: [{ reviewer: 'bob' }],
      });
    });
  });
});

describe('githubProtection', () => {
  it('asks for the strictest environment approvals, last-push approval, checks and signatures', () => {
    const config = parseConfig(`apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments:
  - { name: dev, order: 0, cluster: c, governance: { approvals: 0, nonRoutineApprovals: 1 } }
  - { name: prod, order: 1, cluster: c, production: true, governance: { approvals: 2, nonRoutineApprovals: 2 } }
clusters: { c: { type: sandbox } }
`);
    const { branchProtection, ruleset } = githubProtection(config);
    expect(branchProtection.required_pull_request_reviews).toMatchObject({
      required_approving_review_count: 2,
      dismiss_stale_reviews: true,
      require_last_push_approval: true,
    });
    expect(branchProtection.required_status_checks.contexts).toContain(
      'changeproof/change-approved',
    );
    expect(ruleset.conditions.ref_name.include).toEqual(['refs/heads/main']);
    expect(ruleset.rules.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'required_signatures',
        'non_fast_forward',
        'pull_request',
        'required_status_checks',
      ]),
    );
  });
});
