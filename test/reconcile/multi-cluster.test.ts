import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { kubectl, startTestSandbox, type TestSandbox } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * One engine, two environments, each on its own sandbox cluster: every application is synced to
 * the cluster its environment names, and to no other.
 */
describe('one CD engine serving several clusters', () => {
  let world: CdWorld;
  let staging: TestSandbox;
  let image: string;

  beforeAll(async () => {
    world = await startCdWorld();
    staging = await startTestSandbox();
    image = await world.pushImage('multi-v1');
    await world.commit({ ...appFiles(image), ...appFiles(image, { env: 'staging' }) });
    await world.startEngine({
      environments: [
        world.environment('dev', { syncTimeout: '5s' }),
        world.environment('staging', { syncTimeout: '5s' }),
      ],
      clusters: new Map([
        ['dev', loadKubeconfig(world.sandbox.kubeconfig)],
        ['staging', loadKubeconfig(staging.kubeconfig)],
      ]),
    });
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await staging?.stop();
  });

  const namespacesOf = async (sandbox: TestSandbox) =>
    (await kubectl(sandbox, ['get', 'deployments', '-A', '-o', 'jsonpath={..metadata.namespace}']))
      .stdout;

  it('syncs each environment to its own cluster', async () => {
    const completed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.completed' });
      const apps = entries.map((e) => evidenceOf(e, 'sync.completed')!.app).sort();
      return apps.length >= 2 && apps;
    }, 20_000);

    expect(completed).toEqual(['dev/checkout', 'staging/checkout']);
    expect(await namespacesOf(world.sandbox)).toBe('checkout-dev');
    expect(await namespacesOf(staging)).toBe('checkout-staging');
  });
});
