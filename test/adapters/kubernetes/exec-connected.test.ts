import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeClient, loadKubeconfig } from '../../../src/adapters/kubernetes/index.ts';
import { evidenceOf } from '../../../src/domain/evidence.ts';
import { workspaceClusters } from '../../../src/reconcile/workspace-engine.ts';
import { openWorkspace } from '../../../src/workspace/context.ts';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../../reconcile/fixtures.ts';
import { kubectl, removeDir, token } from '../../sandbox/helpers.ts';
import { FakeAwsPlugin, writeExecKubeconfig } from './exec-plugin-fixture.ts';

/*
 * Connected mode to a cluster whose kubeconfig authenticates with a credential plugin, as EKS,
 * GKE and AKS kubeconfigs do: the workspace's `type: kubeconfig` cluster and the CD engine reach
 * the real sandbox with the token a real plugin process prints.
 */
let world: CdWorld;
let dir: string;
let plugin: FakeAwsPlugin;
let execKubeconfig: string;

beforeAll(async () => {
  world = await startCdWorld();
  dir = mkdtempSync(join(tmpdir(), 'exec-connected-'));
  plugin = new FakeAwsPlugin(dir);
  plugin.plan([{ token, expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() }]);
  execKubeconfig = join(dir, 'kubeconfig');
  writeExecKubeconfig(execKubeconfig, {
    server: world.sandbox.cluster.url,
    caPem: world.sandbox.cluster.caCertificatePem,
    command: plugin.command,
  });
}, 60_000);
afterAll(async () => {
  await world?.close();
  removeDir(dir);
});

describe('connected mode through a credential plugin', () => {
  it('reads a workspace cluster of type kubeconfig with the plugin', async () => {
    const root = join(dir, 'ws');
    await initWorkspace({ dir: root, name: 'exec-connected' });
    const file = join(root, 'changeproof.yaml');
    const config = parse(readFileSync(file, 'utf8')) as { clusters: Record<string, unknown> };
    const eks = { type: 'kubeconfig', path: execKubeconfig, context: 'eks-prod' };
    config.clusters = { 'sandbox-dev': eks, 'sandbox-prod': eks };
    writeFileSync(file, stringify(config));
    const ws = await openWorkspace(root);
    const runsBefore = plugin.runs().length;

    const client = new KubeClient(workspaceClusters(ws).get('sandbox-prod')!);
    try {
      const namespaces = await client.list('v1', 'Namespace');

      expect(namespaces.items.map((item) => item.metadata.name)).toContain('default');
      expect(plugin.runs().length).toBe(runsBefore + 1);
    } finally {
      client.close();
      await ws.close();
    }
  });

  it('syncs an application with the CD engine, running the plugin once for it all', async () => {
    const image = await world.pushImage('exec-v1');
    await world.commit(appFiles(image));
    const runsBefore = plugin.runs().length;

    await world.startEngine({ clusters: new Map([['dev', loadKubeconfig(execKubeconfig)]]) });
    const completed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.completed' });
      return entries.map((entry) => evidenceOf(entry, 'sync.completed')!.app)[0];
    }, 20_000);

    expect(completed).toBe('dev/checkout');
    const live = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
    ]);
    expect(live.code).toBe(0);
    expect(plugin.runs().length).toBe(runsBefore + 1);
  });
});
