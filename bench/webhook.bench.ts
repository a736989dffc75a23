import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GithubWebhookReceiver } from '../src/adapters/github/webhook.ts';
import { signWebhook } from '../src/adapters/github/webhook.ts';
import { openWorkspace, type WorkspaceContext } from '../src/workspace/context.ts';
import { initWorkspace } from '../src/workspace/init.ts';
import { GithubEmulator } from '../test/emulators/github/server.ts';
import type { Benchmark, BenchResult } from './harness.ts';
import { openBumpProposals, selectGithub } from '../test/support/github-load.ts';

const SECRET = 'bench-webhook-secret';
const TOKENS = { 'tok-control-plane': 'changeproof-bot', 'tok-alice': 'alice' };
const ENV = {
  GITHUB_TOKEN: 'tok-control-plane',
  GITHUB_TOKEN_ALICE: 'tok-alice',
  GITHUB_WEBHOOK_SECRET: SECRET,
};
const PROPOSALS = 20;
const PUSH_EVERY = 100;
/** What the reliability load row sends per second; the receiver has to keep up with it. */
const TARGET_RATE = 1000;

/** One signed delivery as the receiver gets it from the HTTP route. */
interface SignedDelivery {
  headers: Record<string, string>;
  rawBody: Buffer;
}

/**
 * Handling throughput of the GitHub webhook receiver in connected mode (GitHub emulator, SQLite,
 * durable ledger), with the HTTP route left out so the figure is the receiver's own: signed
 * reviews of 20 open pull requests, one in a hundred a push, `concurrency` in flight at once.
 */
async function receiverThroughput(total: number, concurrency: number): Promise<BenchResult[]> {
  const github = new GithubEmulator('acme', 'config', TOKENS);
  const root = mkdtempSync(join(tmpdir(), 'changeproof-bench-webhook-'));
  let ws: WorkspaceContext | undefined;
  try {
    const dir = join(root, 'ws');
    await initWorkspace({ dir, name: 'bench' });
    await github.start();
    selectGithub(github, join(dir, 'changeproof.yaml'));
    ws = await openWorkspace(dir, { env: ENV });
    const receiver = ws.connected?.githubWebhooks;
    if (!receiver) throw new Error('the workspace did not wire the GitHub webhook receiver');
    const next = deliveriesFor(github, await openBumpProposals(ws, github, PROPOSALS));
    const seconds = await drive(receiver, total, concurrency, next);
    const received = await ws.ledger.list({ kind: 'webhook.received' });
    if (received.length !== total) throw new Error(`recorded ${received.length} of ${total}`);
    const rate = total / seconds;
    const commits = await durableCommitRate(ws, 300);
    return [
      {
        name: `webhook receiver, ${concurrency} deliveries in flight (SQLite, durable ledger)`,
        value: Math.round(rate),
        unit: 'deliveries/s',
        target: { value: TARGET_RATE, better: 'higher' },
        peer: { name: 'durable ledger commits, one at a time', value: commits, unit: 'commits/s' },
        ratio: rate / commits,
      },
    ];
  } finally {
    await ws?.close();
    await github.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Feeds `total` deliveries to the receiver, `concurrency` at a time; returns the seconds taken. */
async function drive(
  receiver: GithubWebhookReceiver,
  total: number,
  concurrency: number,
  next: () => SignedDelivery,
): Promise<number> {
  let sent = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent += 1;
        const outcome = await receiver.receive(next());
        if (outcome.status !== 202) throw new Error(`delivery answered ${outcome.status}`);
      }
    }),
  );
  return (performance.now() - start) / 1000;
}

/** The same store's limit without group commit: appends awaited one by one, an fsync each. */
async function durableCommitRate(ws: WorkspaceContext, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    await ws.ledger.append({
      kind: 'bench.commit',
      subject: 'bench',
      actor: 'bench',
      payload: { i },
    });
  }
  return Math.round(count / ((performance.now() - start) / 1000));
}

/** Reviews by bob of the open pulls in turn, every {@link PUSH_EVERY}th a push of a head. */
function deliveriesFor(github: GithubEmulator, pulls: number[]): () => SignedDelivery {
  let sequence = 0;
  return () => {
    sequence += 1;
    const pull = github.pulls.get(pulls[sequence % pulls.length]!)!;
    const [event, body] =
      sequence % PUSH_EVERY === 0
        ? [
            'push',
            {
              ref: `refs/heads/${pull.head.ref}`,
              before: pull.base.sha,
              after: pull.head.sha,
              pusher: { name: 'alice' },
            },
          ]
        : [
            'pull_request_review',
            {
              action: 'submitted',
              review: {
                id: sequence,
                user: { login: 'bob' },
                state: 'COMMENTED',
                body: `looked at it (${sequence})`,
                submitted_at: new Date().toISOString(),
                commit_id: pull.head.sha,
              },
              pull_request: pull,
              sender: { login: 'bob' },
            },
          ];
    const rawBody = Buffer.from(JSON.stringify(body));
    const headers = {
      'x-github-delivery': randomUUID(),
      'x-github-event': event,
      'x-hub-signature-256': signWebhook(SECRET, rawBody),
    };
    return { headers, rawBody };
  };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'GitHub webhook handling',
    run: () => receiverThroughput(Number(process.env.CHANGEPROOF_BENCH_WEBHOOKS ?? 10_000), 128),
  },
];
