import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import { KubeClient } from '../../src/adapters/kubernetes/client.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { KubeObject } from '../../src/gitops/render.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../reconcile/fixtures.ts';
import { figures, mib, ms, percentile, report } from './support/row.ts';

const APPS = Number(process.env.CHANGEPROOF_RELIABILITY_DRIFT_APPS ?? 200);
const serviceName = (n: number) => `app-${String(n).padStart(3, '0')}`;

describe('load: applications drifting at once', () => {
  let world: CdWorld;
  let engine: CdEngine;
  let syncSeconds = 0;
  beforeAll(async () => {
    world = await startCdWorld();
    const image = await world.pushImage('drift-load');
    const files: Record<string, string> = {};
    for (let n = 0; n < APPS; n += 1) {
      Object.assign(files, appFiles(image, { service: serviceName(n), replicas: 1 }));
    }
    await world.commit(files);
    const started = performance.now();
    engine = await world.startEngine();
    await eventually(
      async () =>
        engine.applications().length === APPS &&
        engine.applications().every((app) => app.health === 'Healthy'),
      Number(process.env.CHANGEPROOF_RELIABILITY_SYNC_TIMEOUT_MS ?? 240_000),
    ).catch((error: unknown) => {
      const states = engine
        .applications()
        .map((a) => `${a.app} ${a.sync} ${a.health} ${a.lastError ?? ''}`);
      throw new Error(`${String(error)}: ${states.slice(0, 5).join('; ')}`);
    });
    syncSeconds = (performance.now() - started) / 1000;
  }, 300_000);
  afterAll(() => world?.close());

  it(`records and reverts drift on ${APPS} applications changed at the same moment`, async (context) => {
    report(context, {
      area: 'Load',
      tried: `${APPS} applications synced, then every Deployment changed out of band at once (self-heal on)`,
      figures: { [`initial sync of ${APPS} apps`]: `${syncSeconds.toFixed(1)} s` },
    });
    const client = new KubeClient(loadKubeconfig(world.sandbox.kubeconfig));
    const head = (await world.ledger.head())?.seq ?? 0;
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);

    const changedAt = new Map<string, number>();
    await Promise.all(
      Array.from({ length: APPS }, async (_, n) => {
        const name = serviceName(n);
        changedAt.set(`dev/${name}`, Date.now());
        await client.apply(
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name, namespace: `${name}-dev` },
            spec: {
              template: { spec: { containers: [{ name: 'web', image: 'nginx:out-of-band' }] } },
            },
          } as KubeObject,
          { fieldManager: 'reliability-operator', force: true },
        );
      }),
    );

    const detected = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'drift.detected', afterSeq: head });
      const apps = new Set(entries.map((e) => evidenceOf(e, 'drift.detected')!.app));
      return apps.size >= APPS ? entries : undefined;
    }, 120_000);
    await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'drift.reverted', afterSeq: head });
      return new Set(entries.map((e) => evidenceOf(e, 'drift.reverted')!.app)).size >= APPS;
    }, 120_000);
    clearInterval(sampler);

    const latencies = detected.map((entry) => {
      const app = evidenceOf(entry, 'drift.detected')!.app;
      return Date.parse(entry.time) - changedAt.get(app)!;
    });
    const managers = new Set(detected.map((e) => evidenceOf(e, 'drift.detected')!.fieldManager));
    figures(context, {
      'drift recorded': new Set(detected.map((e) => evidenceOf(e, 'drift.detected')!.app)).size,
      'drift p50': ms(percentile(latencies, 50)),
      'drift p99': ms(percentile(latencies, 99)),
      'peak RSS': mib(Math.max(...rss)),
    });
    expect([...managers]).toEqual(['reliability-operator']);
    for (let n = 0; n < APPS; n += 1) {
      const live = await client.get({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: serviceName(n),
        namespace: `${serviceName(n)}-dev`,
      });
      const image = (live!.spec as { template: { spec: { containers: Array<{ image: string }> } } })
        .template.spec.containers[0]!.image;
      expect(image).not.toBe('nginx:out-of-band');
    }
    expect(Math.max(...rss)).toBeLessThan(2048 * 1024 * 1024);
  });
});
