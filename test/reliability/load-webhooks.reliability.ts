import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubForge } from '../../src/adapters/github/index.ts';
import { GithubWebhookReceiver, signWebhook } from '../../src/adapters/github/webhook.ts';
import { silentLogger } from '../../src/log.ts';
import { createServer } from '../../src/server/app.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { figures, mib, ms, percentile, report } from './support/row.ts';

const SECONDS = Number(process.env.CHANGEPROOF_RELIABILITY_LOAD_SECONDS ?? 30);
const RATE = 1000;
const SECRET = 'load-test-webhook-secret';
// One delivery in a hundred is sent again, as GitHub does on a timeout: it must count once.
const REPLAY_EVERY = 100;

describe('load: GitHub webhook deliveries over HTTP', () => {
  let root: string;
  let ws: WorkspaceContext;
  let close: () => Promise<void>;
  let port: number;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'changeproof-load-'));
    await initWorkspace({ dir: join(root, 'ws'), name: 'load' });
    ws = await openWorkspace(join(root, 'ws'));
    // Deliveries here are ping events: they reach the ledger, never the forge.
    const receiver = new GithubWebhookReceiver({
      secret: SECRET,
      ledger: ws.ledger,
      forge: {} as GithubForge,
    });
    Object.assign(ws, { connected: { githubWebhooks: receiver } });
    const { app } = createServer({ workspace: ws, logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    close = () => app.close();
  });
  afterAll(async () => {
    await close?.();
    await ws?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it(`records every one of ${RATE} deliveries a second for ${SECONDS} s exactly once`, async (context) => {
    report(context, {
      area: 'Load',
      tried: `${RATE} signed webhook deliveries/s for ${SECONDS} s to POST /webhooks/github, 1 in ${REPLAY_EVERY} replayed`,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 128 });
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);
    const sent: Array<Promise<void>> = [];
    const ids: string[] = [];

    const deliver = (id: string) => {
      const body = Buffer.from(JSON.stringify({ zen: 'load', hook_id: id }));
      const started = performance.now();
      return new Promise<void>((resolve) => {
        const call = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/webhooks/github',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              'x-github-delivery': id,
              'x-github-event': 'ping',
              'x-hub-signature-256': signWebhook(SECRET, body),
            },
          },
          (response) => {
            response.resume();
            response.on('end', () => {
              latencies.push(performance.now() - started);
              statuses.set(response.statusCode!, (statuses.get(response.statusCode!) ?? 0) + 1);
              resolve();
            });
          },
        );
        call.on('error', () => {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          resolve();
        });
        call.end(body);
      });
    };

    // Open loop: every 10 ms the deliveries due by then are sent, whether or not earlier ones
    // were answered, so a slow server shows as latency, not as a lower rate.
    const start = performance.now();
    const total = RATE * SECONDS;
    while (ids.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      while (ids.length < due) {
        const id = randomUUID();
        ids.push(id);
        sent.push(deliver(id));
        if (ids.length % REPLAY_EVERY === 0) sent.push(deliver(ids[ids.length - 2]!));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const sendSeconds = (performance.now() - start) / 1000;
    await Promise.all(sent);
    clearInterval(sampler);
    agent.destroy();

    const received = await ws.ledger.list({ kind: 'webhook.received' });
    const recordedIds = new Set(received.map((e) => String(e.payload.delivery)));
    figures(context, {
      sent: sent.length,
      'achieved rate': `${Math.round(total / sendSeconds)}/s`,
      recorded: received.length,
      p50: ms(percentile(latencies, 50)),
      p99: ms(percentile(latencies, 99)),
      max: ms(Math.max(...latencies)),
      'peak RSS': mib(Math.max(...rss)),
      'RSS first/last': `${mib(rss[0]!)}/${mib(rss[rss.length - 1]!)}`,
      statuses: [...statuses].map(([s, n]) => `${s}:${n}`).join(' '),
    });
    expect(statuses.get(0) ?? 0).toBe(0);
    expect(statuses.get(202)).toBe(sent.length);
    expect(received).toHaveLength(total);
    expect(ids.filter((id) => !recordedIds.has(id))).toEqual([]);
    expect(Math.max(...rss)).toBeLessThan(1536 * 1024 * 1024);
  });
});
