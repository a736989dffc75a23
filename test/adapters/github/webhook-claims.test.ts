import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreDeliveryClaims } from '../../../src/adapters/delivery-claims.ts';
import {
  GithubForge,
  GithubWebhookReceiver,
  signWebhook,
} from '../../../src/adapters/github/index.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { openStore, type Store } from '../../../src/store/open.ts';
import { GithubEmulator } from '../../emulators/github/server.ts';
import { oneApprovalPolicy, routineBump, webhookTokens } from './webhook-fixtures.ts';
import { engines, freshDatabase } from '../../support/stores.ts';

/*
 * Two API replicas share one database, each with its own store connection, ledger, forge and
 * webhook receiver, as two pods behind one GitHub webhook would. GitHub redelivers, and a load
 * balancer may hand the same delivery to both: it must be handled once.
 */
const secret = 'whsec-claims';
const tokens = webhookTokens;
const bump = routineBump;
const policy = oneApprovalPolicy;

interface Replica {
  store: Store;
  ledger: Ledger;
  forge: GithubForge;
  receiver: GithubWebhookReceiver;
}

describe.each(engines)('GitHub webhook de-duplication across replicas on %s', (engine) => {
  const github = new GithubEmulator('acme', 'config', tokens);
  let dispose: () => Promise<void> = async () => undefined;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    await github.start();
  });
  afterAll(async () => {
    await github.stop();
  });
  afterEach(async () => {
    github.clearFaults();
    for (const store of new Set(replicas.map((replica) => replica.store))) await store.close();
    replicas = [];
    await dispose();
  });

  async function startReplicas(count: number, claimOptions = {}): Promise<Replica[]> {
    const database = await freshDatabase(engine);
    dispose = database.dispose;
    for (let i = 0; i < count; i++) {
      // On PostgreSQL each replica has its own pool. better-sqlite3 is synchronous: a second
      // connection in this process would block the event loop waiting for the first one's write
      // lock, so SQLite replicas share the store (as processes on one host share the file).
      const shared = engine === 'sqlite' ? replicas[0]?.store : undefined;
      const store = shared ?? (await openStore(database.url));
      const ledger = new Ledger(store);
      const forge = new GithubForge({
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
      const claims = new StoreDeliveryClaims(store, 'github', claimOptions);
      const receiver = new GithubWebhookReceiver({ secret, ledger, forge, claims });
      replicas.push({ store, ledger, forge, receiver });
    }
    return replicas;
  }

  function delivery(id: string, event: string, payload: object) {
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

  async function approvalPayload(forge: GithubForge, branch: string) {
    github.push(branch, [bump]);
    const proposal = await forge.openProposal({
      title: 'payments v2',
      description: 'bump',
      author: 'ci-bot',
      branch,
      evidence: { artifact: 'reg/payments@sha256:bb' },
    });
    const pull = github.pulls.get(Number(proposal.id))!;
    return {
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
  }

  it('handles a delivery given to two replicas at once exactly once', async () => {
    const [a, b] = await startReplicas(2);
    const payload = await approvalPayload(a!.forge, `claims-${engine}-1`);

    // Three copies to each replica, all in flight together.
    const outcomes = await Promise.all(
      [a!, b!, a!, b!, a!, b!].map((replica) =>
        replica.receiver.receive(delivery('d-shared', 'pull_request_review', payload)),
      ),
    );

    expect(outcomes.filter((o) => o.outcome === 'recorded')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(5);
    expect(outcomes.every((o) => o.status === 202)).toBe(true);
    expect(await a!.ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(1);
    expect(await b!.ledger.list({ kind: 'webhook.received' })).toHaveLength(1);
    const claimed = await a!.store.db.selectFrom('webhook_deliveries').selectAll().execute();
    expect(claimed.map((row) => [row.source, row.delivery])).toEqual([['github', 'd-shared']]);
  });

  it('releases the claim when handling fails, so the redelivery at another replica is handled', async () => {
    const [a, b] = await startReplicas(2);
    await approvalPayload(a!.forge, `claims-${engine}-2`);
    const push = {
      ref: `refs/heads/claims-${engine}-2`,
      before: 'x',
      after: 'y',
      pusher: { name: 'dave' },
    };

    // GitHub's API is down while replica a handles the push: it looks up the open pull requests.
    github.fail({ status: 503, match: /^GET .*\/pulls$/ }, 1000);
    await expect(a!.receiver.receive(delivery('d-retry', 'push', push))).rejects.toThrow();
    expect(await a!.store.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
    expect(await a!.ledger.list({ kind: 'webhook.received' })).toHaveLength(0);

    github.clearFaults();
    expect(await b!.receiver.receive(delivery('d-retry', 'push', push))).toMatchObject({
      outcome: 'recorded',
    });
    expect(await b!.ledger.list({ kind: 'proposal.pushed' })).toHaveLength(1);
  });

  it('re-takes a claim its holder left behind only after it expires, never twice', async () => {
    const [a, b] = await startReplicas(2, { staleAfterMs: 60_000 });
    const fresh = new StoreDeliveryClaims(a!.store, 'github', { staleAfterMs: 60_000 });
    const later = new StoreDeliveryClaims(b!.store, 'github', {
      staleAfterMs: 60_000,
      clock: () => new Date(Date.now() + 120_000),
    });
    const laterToo = new StoreDeliveryClaims(a!.store, 'github', {
      staleAfterMs: 60_000,
      clock: () => new Date(Date.now() + 120_000),
    });

    // A replica claimed d-orphan and died before handling it.
    expect(await fresh.claim('d-orphan')).toBe(true);
    expect(await fresh.claim('d-orphan')).toBe(false);
    // Two minutes on, two replicas race for the expired claim: one wins.
    const won = await Promise.all([later.claim('d-orphan'), laterToo.claim('d-orphan')]);
    expect(won.filter(Boolean)).toHaveLength(1);
    // Another source's delivery of the same id is its own claim.
    expect(await new StoreDeliveryClaims(a!.store, 'other').claim('d-orphan')).toBe(true);
  });

  it('treats a redelivery of a handled delivery as a duplicate even once its claim expired', async () => {
    const [a] = await startReplicas(1);
    const payload = await approvalPayload(a!.forge, `claims-${engine}-4`);
    expect(
      await a!.receiver.receive(delivery('d-old', 'pull_request_review', payload)),
    ).toMatchObject({ outcome: 'recorded' });

    const muchLater = new StoreDeliveryClaims(a!.store, 'github', {
      clock: () => new Date(Date.now() + 24 * 3600_000),
    });
    const restarted = new GithubWebhookReceiver({
      secret,
      ledger: a!.ledger,
      forge: a!.forge,
      claims: muchLater,
    });
    expect(
      await restarted.receive(delivery('d-old', 'pull_request_review', payload)),
    ).toMatchObject({ outcome: 'duplicate' });
    expect(await a!.ledger.list({ kind: 'proposal.reviewed' })).toHaveLength(1);
  });
});
