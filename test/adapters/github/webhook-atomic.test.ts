import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreDeliveryClaims } from '../../../src/adapters/delivery-claims.ts';
import {
  GithubForge,
  GithubWebhookReceiver,
  signWebhook,
} from '../../../src/adapters/github/index.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import type { Store } from '../../../src/store/open.ts';
import { GithubEmulator } from '../../emulators/github/server.ts';
import { oneApprovalPolicy, routineBump, webhookTokens } from './webhook-fixtures.ts';
import { engines, freshStore, type Engine } from '../../support/stores.ts';

/*
 * A review delivery is claimed and recorded in one transaction: the claim, the review's evidence
 * and the delivery's receipt commit together or not at all, so a failure part-way leaves nothing
 * behind and GitHub's redelivery records the review once.
 */
const secret = 'whsec-atomic';
const tokens = webhookTokens;
const bump = routineBump;
const policy = oneApprovalPolicy;

describe.each(engines)('GitHub review deliveries recorded atomically on %s', (engine) => {
  const github = new GithubEmulator('acme', 'config', tokens);
  let store: Store;
  let ledger: Ledger;
  let forge: GithubForge;
  let receiver: GithubWebhookReceiver;
  let dispose: () => Promise<void>;

  beforeAll(() => github.start());
  afterAll(() => github.stop());
  beforeEach(async () => {
    ({ store, dispose } = await freshStore(engine));
    ledger = new Ledger(store);
    forge = new GithubForge({
      apiUrl: github.url,
      owner: 'acme',
      repo: 'config',
      cloneUrl: 'https://github.com/acme/config.git',
      tokenFor: () => 'tok-ci',
      ledger,
      policy,
      backoffMs: 1,
      timeoutMs: 500,
    });
    const claims = new StoreDeliveryClaims(store, 'github');
    receiver = new GithubWebhookReceiver({ secret, ledger, forge, claims });
  });
  afterEach(() => dispose());

  async function openPull(branch: string) {
    github.push(branch, [bump]);
    const proposal = await forge.openProposal({
      title: 'payments v2',
      description: 'bump',
      author: 'ci-bot',
      branch,
      evidence: { artifact: 'reg/payments@sha256:bb' },
    });
    return github.pulls.get(Number(proposal.id))!;
  }

  function reviewDelivery(id: string, pull: { number: number; head: { sha: string } }) {
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
    return signed(id, 'pull_request_review', payload);
  }

  async function claimed(): Promise<string[]> {
    const rows = await store.db.selectFrom('webhook_deliveries').select('delivery').execute();
    return rows.map((row) => row.delivery);
  }

  it('commits the claim, the review and its receipt as consecutive entries of one write', async () => {
    const pull = await openPull(`atomic-${engine}-1`);
    const before = (await ledger.head())!.seq;

    expect(await receiver.receive(reviewDelivery('d-1', pull))).toMatchObject({
      status: 202,
      outcome: 'recorded',
    });

    const written = await ledger.list({ afterSeq: before });
    expect(written.map((e) => [e.seq - before, e.kind, e.subject])).toEqual([
      [1, 'proposal.reviewed', `proposal:${pull.number}`],
      [2, 'webhook.received', 'webhook:github:d-1'],
    ]);
    expect(written[0]!.payload).toMatchObject({ reviewer: 'bob', state: 'approved' });
    expect(written[1]!.payload).toEqual({
      delivery: 'd-1',
      event: 'pull_request_review',
      recorded: true,
    });
    // One transaction stamps one time on every entry it writes.
    expect(written[1]!.time).toBe(written[0]!.time);
    expect(await claimed()).toEqual(['d-1']);
  });

  it('leaves no claim and no evidence when the write fails, so the redelivery records it once', async () => {
    const pull = await openPull(`atomic-${engine}-2`);
    await refuseReceipts(store, engine, true);

    await expect(receiver.receive(reviewDelivery('d-2', pull))).rejects.toThrow(/refused/);
    expect(await claimed()).toEqual([]);
    expect(await ledger.list({ kind: 'proposal.reviewed' })).toEqual([]);

    await refuseReceipts(store, engine, false);
    expect(await receiver.receive(reviewDelivery('d-2', pull))).toMatchObject({
      outcome: 'recorded',
    });
    expect(await receiver.receive(reviewDelivery('d-2', pull))).toMatchObject({
      outcome: 'duplicate',
    });
    expect(await ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(1);
    expect(await ledger.list({ kind: 'webhook.received' })).toHaveLength(1);
  });

  it('records each of many deliveries arriving together once, copies of one id included', async () => {
    const pull = await openPull(`atomic-${engine}-3`);
    const distinct = Array.from({ length: 40 }, (_, i) => reviewDelivery(`d-many-${i}`, pull));
    const copies = Array.from({ length: 5 }, () => reviewDelivery('d-many-0', pull));

    const outcomes = await Promise.all([...distinct, ...copies].map((d) => receiver.receive(d)));

    const counts = new Map<string, number>();
    for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ recorded: 40, duplicate: 5 });
    const receipts = await ledger.list({ kind: 'webhook.received' });
    expect(new Set(receipts.map((e) => e.subject)).size).toBe(40);
    expect(receipts).toHaveLength(40);
    expect(await ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(40);
    expect((await claimed()).sort()).toEqual(distinct.map((_, i) => `d-many-${i}`).sort());
  });

  it('receipts an unknown event as ignored in the same way, and counts its redelivery once', async () => {
    const ping = signed('d-ping', 'ping', { zen: 'Keep it logically awesome.' });

    expect(await receiver.receive(ping)).toMatchObject({ status: 202, outcome: 'ignored' });
    expect(await receiver.receive(ping)).toMatchObject({ outcome: 'duplicate' });
    const receipts = await ledger.list({ kind: 'webhook.received' });
    expect(receipts.map((e) => e.payload)).toEqual([
      { delivery: 'd-ping', event: 'ping', recorded: false },
    ]);
  });

  it('ignores a push to the branch of a closed pull request', async () => {
    const branch = `atomic-${engine}-5`;
    const pull = await openPull(branch);
    pull.state = 'closed';
    const push = { ref: `refs/heads/${branch}`, before: 'x', after: 'y', pusher: { name: 'dave' } };

    expect(await receiver.receive(signed('d-push', 'push', push))).toMatchObject({
      outcome: 'ignored',
    });
    expect(await ledger.list({ kind: 'proposal.pushed' })).toEqual([]);
  });
});

function signed(id: string, event: string, payload: object) {
  const rawBody = Buffer.from(JSON.stringify(payload));
  return {
    headers: {
      'x-github-delivery': id,
      'x-github-event': event,
      'x-hub-signature-256': signWebhook(secret, rawBody),
    },
    rawBody,
  };
}

/**
 * Makes the database itself refuse (or accept again) every `webhook.received` entry: a write
 * that fails after the claim and the review's evidence were written in the same transaction.
 */
async function refuseReceipts(store: Store, engine: Engine, refuse: boolean): Promise<void> {
  if (engine === 'sqlite') {
    await sql`drop trigger if exists refuse_receipts`.execute(store.db);
    if (!refuse) return;
    await sql`create trigger refuse_receipts before insert on ledger_entries
      when new.kind = 'webhook.received'
      begin select raise(abort, 'receipt refused'); end`.execute(store.db);
    return;
  }
  await sql`drop trigger if exists refuse_receipts on ledger_entries`.execute(store.db);
  if (!refuse) return;
  await sql`create or replace function refuse_receipts() returns trigger language plpgsql
    as $$ begin raise exception 'receipt refused'; end $$`.execute(store.db);
  await sql`create trigger refuse_receipts before insert on ledger_entries
    for each row when (new.kind = 'webhook.received')
    execute function refuse_receipts()`.execute(store.db);
}
