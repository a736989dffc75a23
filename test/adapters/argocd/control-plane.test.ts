import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubeClient } from '../../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../../src/adapters/kubernetes/config.ts';
import { startPlane, type Plane } from '../../dashboard/fixtures.ts';
import { removeDir, startTestSandbox, type TestSandbox } from '../../sandbox/helpers.ts';
import { applicationCrd } from './fixtures.ts';

let sandbox: TestSandbox;
let client: KubeClient;
let plane: Plane;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  client = new KubeClient(loadKubeconfig(sandbox.kubeconfig));
  await client.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } },
    { fieldManager: 'test' },
  );
  await client.apply(applicationCrd, { fieldManager: 'test' });
  plane = await startPlane((ws) => {
    ws.config.adapters.cdEngine = 'argocd';
    return { argocdCluster: loadKubeconfig(sandbox.kubeconfig) };
  });
}, 60_000);

afterAll(async () => {
  await plane?.close();
  client?.close();
  await sandbox?.stop();
  if (sandbox) removeDir(sandbox.dir);
});

it('the control plane with cdEngine: argocd records the syncs Argo CD makes', async () => {
  const revision = 'e'.repeat(40);
  await client.apply(
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: 'web-dev',
        namespace: 'argocd',
        labels: { 'changeproof.dev/service': 'web', 'changeproof.dev/env': 'dev' },
      },
      status: {
        history: [{ id: 4, revision, deployedAt: '2026-12-02T09:00:00Z' }],
        sync: { status: 'Synced', revision },
        health: { status: 'Healthy' },
      },
    },
    { fieldManager: 'argocd-application-controller', force: true },
  );
  const deadline = Date.now() + 10_000;
  let found = await plane.ws.ledger.list({
    kind: 'sync.completed',
    subject: 'deployment:dev/web/4',
  });
  while (found.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = await plane.ws.ledger.list({ kind: 'sync.completed', subject: 'deployment:dev/web/4' });
  }
  expect(found[0]).toMatchObject({ actor: 'argocd', payload: { configCommit: revision } });
});
