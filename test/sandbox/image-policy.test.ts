import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import type { RunningRegistry } from '../../src/embedded/registry/index.ts';
import {
  startWorkspaceRegistry,
  startWorkspaceSandboxes,
  type RunningSandboxes,
} from '../../src/server/embedded-services.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { pushTestImage } from '../reconcile/fixtures.ts';
import { testSigner } from '../support/signer.ts';

/*
 * The image policy `changeproof up` gives its sandboxes (startWorkspaceSandboxes without an
 * injected policy): a workload becomes ready only with an image that is in the registry and
 * signed and attested by the workspace's pipeline key.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-image-policy-'));
let ws: WorkspaceContext;
let registry: RunningRegistry;
let sandboxes: RunningSandboxes;
let client: KubeClient;
let pipeline: Signer;

beforeAll(async () => {
  await initWorkspace({ dir: join(root, 'ws'), name: 'policy' });
  ws = await openWorkspace(join(root, 'ws'));
  registry = await startWorkspaceRegistry(ws);
  sandboxes = await startWorkspaceSandboxes(ws);
  client = new KubeClient(loadKubeconfig(ws.paths.kubeconfig, 'sandbox-dev'));
  const lease = await ws.broker.openLease({ holder: 'test', scopes: ['sign:pipeline'] });
  pipeline = await ws.broker.signer(lease.id, 'pipeline');
});

afterAll(async () => {
  client?.close();
  await sandboxes?.close();
  await registry?.close();
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

function deployment(name: string, image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Applies a Deployment and waits for the simulation's final word on its rollout. */
async function rolloutOf(name: string, image: string): Promise<Condition> {
  await client.apply(deployment(name, image), { fieldManager: 'test' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const live = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name,
      namespace: 'default',
    });
    const conditions = (live?.status as { conditions?: Condition[] })?.conditions ?? [];
    const progressing = conditions.find((condition) => condition.type === 'Progressing');
    if (progressing && progressing.reason !== 'ReplicaSetUpdated') return progressing;
    if (Date.now() > deadline) throw new Error(`${name}: rollout never decided`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the sandbox image policy of changeproof up', () => {
  it('makes a Deployment with a signed and attested image ready', async () => {
    const image = await pushTestImage(registry.host, pipeline, 'signed', {});

    const progressing = await rolloutOf('signed', image);

    expect(progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('never makes a Deployment ready whose image the registry lacks', async () => {
    const image = `${registry.host}/shop/checkout@sha256:${'0'.repeat(64)}`;

    const progressing = await rolloutOf('missing', image);

    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing.message).toContain('cannot pull');
  });

  it('never makes a Deployment ready whose image is in the registry but unsigned', async () => {
    const image = await pushTestImage(registry.host, pipeline, 'unsigned', {
      sign: false,
      attest: false,
    });

    const progressing = await rolloutOf('unsigned', image);

    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing.message).toContain('has no signature');
  });

  it('never makes a Deployment ready whose image another key signed', async () => {
    const image = await pushTestImage(registry.host, testSigner(), 'stranger', {});

    const progressing = await rolloutOf('stranger', image);

    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing.message).toContain('is not signed by the pipeline key');
  });
});
