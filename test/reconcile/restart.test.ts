import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { startSandboxCluster } from '../../src/embedded/sandbox/index.ts';
import { kubectl, token } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the sandbox restarted mid-sync', () => {
  let world: CdWorld;
  let port: number;
  let restarted: { close(): Promise<void> } | undefined;

  beforeAll(async () => {
    port = await freePort();
    world = await startCdWorld({ sandboxPort: port });
  }, 60_000);
  afterAll(async () => {
    await restarted?.close();
    await world?.close();
  });

  it('fails the sync with a clear reason and converges once the cluster is back', async () => {
    await world.commit(appFiles(await world.pushImage('before')));
    const engine = await world.startEngine();
    await eventually(async () => engine.applications()[0]?.health === 'Healthy');

    const next = await world.pushImage('after');
    const extra: Record<string, string> = {};
    const resources = ['deployment.yaml', 'service.yaml'];
    for (let n = 0; n < 40; n += 1) {
      extra[`apps/checkout/base/cm-${n}.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm-${n} }\ndata: { n: "${n}" }\n`;
      resources.push(`cm-${n}.yaml`);
    }
    extra['apps/checkout/base/kustomization.yaml'] =
      `resources:\n${resources.map((r) => `  - ${r}\n`).join('')}`;
    const commit = await world.commit(appFiles(next, { extra }));
    engine.notifyMerged();

    // Stop the cluster as soon as the sync has started.
    await eventually(
      async () =>
        (await world.ledger.list({ kind: 'sync.started' })).some(
          (e) => evidenceOf(e, 'sync.started')!.configCommit === commit,
        ),
      5000,
    );
    await world.sandbox.cluster.close();

    const failed = await eventually(async () =>
      (await world.ledger.list({ kind: 'sync.failed' }))
        .map((e) => evidenceOf(e, 'sync.failed')!)
        .find((p) => p.configCommit === commit),
    );
    expect(failed.reason).toMatch(/unreachable|cluster lost|ECONNREFUSED/);

    // The same data directory and port: the sandbox comes back with what it had stored.
    world.sandbox.cluster = restarted = await startSandboxCluster({
      dataDir: world.sandbox.dataDir,
      token,
      port,
      rolloutDelayMs: 100,
    });
    const completed = await eventually(
      async () =>
        (await world.ledger.list({ kind: 'sync.completed' }))
          .map((e) => evidenceOf(e, 'sync.completed')!)
          .find((p) => p.configCommit === commit),
      20_000,
    );
    expect(completed.liveDigest).toBe(completed.desiredDigest);
    const image = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    expect(image.stdout).toBe(next);
    const configMaps = await kubectl(world.sandbox, [
      'get',
      'configmaps',
      '-n',
      'checkout-dev',
      '-o',
      'name',
    ]);
    expect(configMaps.stdout.match(/cm-\d+/g)).toHaveLength(40);
  });
});
