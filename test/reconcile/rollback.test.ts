import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

describe('rollback on an unhealthy sync', () => {
  let world: CdWorld;
  const blocked = new Set<string>();

  beforeAll(async () => {
    // The sandbox cannot "pull" blocked images, so their rollout never becomes available.
    world = await startCdWorld({
      imagePolicy: async (image) =>
        blocked.has(image) ? { allowed: false, reason: 'pull failed' } : { allowed: true },
    });
  }, 60_000);
  afterAll(() => world?.close());

  it('rolls back to the last healthy deployment, records why and opens an incident', async () => {
    const good = await world.pushImage('good');
    const broken = await world.pushImage('broken');
    blocked.add(broken);
    await world.commit(appFiles(good));
    const engine = await world.startEngine();
    await eventually(async () => engine.applications()[0]?.health === 'Healthy');

    const bad = await world.commit(appFiles(broken));
    engine.notifyMerged();
    const failed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.failed' });
      return entries.length > 0 && evidenceOf(entries[0]!, 'sync.failed');
    });
    expect(failed).toMatchObject({
      app: 'dev/checkout',
      configCommit: bad,
      rolledBackTo: 'dev/checkout/1',
    });
    expect(failed.reason).toContain('pull failed');

    const image = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    expect(image.stdout).toBe(good);
    const incidents = (await world.ledger.list({ kind: 'incident.opened' })).map((e) =>
      evidenceOf(e, 'incident.opened')!,
    );
    expect(incidents).toContainEqual(
      expect.objectContaining({ cause: 'sync-failure', link: `deployment:${failed.deployment}` }),
    );
    await eventually(async () => engine.applications()[0]?.health === 'Healthy');

    // The failed commit is not retried in a loop.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await world.ledger.list({ kind: 'sync.failed' })).toHaveLength(1);
  });
});
