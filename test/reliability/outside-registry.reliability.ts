import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../reconcile/fixtures.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { figures, ms, report } from './support/row.ts';

const FAULTS: Array<[string, Fault]> = [
  ['down', { kind: 'down' }],
  ['503', { kind: 'status', status: 503 }],
  ['500', { kind: 'status', status: 500 }],
  ['429 with Retry-After', { kind: 'status', status: 429, retryAfterSeconds: 1 }],
];

describe('outside failures: the registry during sync', () => {
  let world: CdWorld;
  let proxy: FaultProxy;
  let engine: CdEngine;
  beforeAll(async () => {
    world = await startCdWorld();
    proxy = await startFaultProxy(world.registry.url);
    // Every registry call of the engine goes through the proxy; the images keep their names.
    engine = await world.startEngine({
      registryClients: () =>
        new RegistryClient({ registry: proxy.host, insecure: true, retry: { attempts: 2 } }),
    });
    await world.commit(appFiles(await world.pushImage('baseline')));
    await eventually(async () => engine.applications()[0]?.health === 'Healthy', 20_000);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await world?.close();
  });

  const deployedImage = async () =>
    (
      await kubectl(world.sandbox, [
        'get',
        'deployment',
        'checkout',
        '-n',
        'checkout-dev',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ])
    ).stdout;
  const completedFor = async (commit: string) =>
    (await world.ledger.list({ kind: 'sync.completed' }))
      .map((e) => evidenceOf(e, 'sync.completed')!)
      .find((p) => p.configCommit === commit);

  it('applies nothing it cannot verify while the registry fails, and syncs once it is back', async (context) => {
    report(context, {
      area: 'Outside failures',
      tried: `registry ${FAULTS.map(([name]) => name).join(', ')} and slow (400 ms a request) during sync`,
    });
    const recovery: Record<string, string> = {};
    for (const [name, fault] of FAULTS) {
      const before = await deployedImage();
      const image = await world.pushImage(`fault-${name.replace(/\W+/g, '-')}`);
      proxy.set(fault);
      const commit = await world.commit(appFiles(image));
      engine.notifyMerged();

      // The engine reports the registry as the reason and leaves the cluster as it was.
      await eventually(
        async () =>
          /registry|unavailable|429|50\d|ECONNRESET|socket/i.test(
            engine.applications()[0]?.lastError ?? '',
          ),
        20_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await deployedImage(), `registry ${name}`).toBe(before);
      expect(await completedFor(commit)).toBeUndefined();

      const back = Date.now();
      proxy.set({ kind: 'pass' });
      const completed = await eventually(() => completedFor(commit), 30_000);
      recovery[`recovered after ${name}`] = ms(Date.now() - back);
      expect(completed.liveDigest).toBe(completed.desiredDigest);
      expect(await deployedImage()).toBe(image);
      figures(context, recovery);
    }

    proxy.set({ kind: 'slow', delayMs: 400 });
    const slowImage = await world.pushImage('slow');
    const started = Date.now();
    const slowCommit = await world.commit(appFiles(slowImage));
    engine.notifyMerged();
    await eventually(() => completedFor(slowCommit), 60_000);
    proxy.set({ kind: 'pass' });
    expect(await deployedImage()).toBe(slowImage);
    figures(context, { 'slow registry sync': ms(Date.now() - started), ...proxy.counts });
  });
});
