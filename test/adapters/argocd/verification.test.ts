import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appOfApps } from '../../../src/adapters/argocd/generate.ts';
import { startArgocdObserver, type ArgocdObserver } from '../../../src/adapters/argocd/observe.ts';
import {
  scheduleArgocdVerification,
  type ArgocdVerification,
} from '../../../src/adapters/argocd/verification.ts';
import { KubeClient } from '../../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../../src/adapters/kubernetes/config.ts';
import { evidenceOf } from '../../../src/domain/evidence.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../../reconcile/fixtures.ts';
import { kubectl } from '../../sandbox/helpers.ts';
import { applicationCrd } from './fixtures.ts';

/*
 * cdEngine: argocd. This test plays Argo CD: it renders the overlay with the labels the generated
 * Application gives kustomize, applies it with Argo CD's field manager, and reports the sync in
 * the Application's status. changeproof observes that, and its own scheduled verification renders
 * the approved commit itself and compares the live objects with it.
 */
let world: CdWorld;
let client: KubeClient;
let observer: ArgocdObserver;
let verification: ArgocdVerification;
const errors: unknown[] = [];

beforeAll(async () => {
  world = await startCdWorld();
  client = new KubeClient(loadKubeconfig(world.sandbox.kubeconfig));
  await client.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } },
    { fieldManager: 'test' },
  );
  await client.apply(applicationCrd, { fieldManager: 'test' });
  observer = await startArgocdObserver({ client, ledger: world.ledger, namespace: 'argocd' });
}, 60_000);

afterAll(async () => {
  await verification?.stop();
  observer?.stop();
  client?.close();
  await world?.close();
});

/** What Argo CD does for `checkout-dev` at `revision`: kustomize with its labels, server-side apply. */
async function argocdSyncs(revision: string, historyId: number) {
  const generated = appOfApps(
    { namespace: 'argocd', repoUrl: 'x', project: 'changeproof', targetRevision: 'main' },
    [world.environment('dev')],
    [{ service: 'checkout', env: 'dev' }],
  ).find((m) => (m.metadata as { name: string }).name === 'checkout-dev') as {
    spec: { source: { kustomize: { commonLabels: Record<string, string> } } };
  };
  const dir = join(world.dir, `argocd-render-${historyId}`);
  mkdirSync(dir, { recursive: true });
  const overlay = relative(dir, join(world.work, 'apps/checkout/overlays/dev'));
  const labels = generated.spec.source.kustomize.commonLabels;
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `resources: [${overlay}]\nlabels:\n  - includeSelectors: false\n    pairs: ${JSON.stringify(labels)}\n`,
  );
  const applied = await kubectl(world.sandbox, [
    'apply',
    '--server-side',
    '--field-manager=argocd-controller',
    '-k',
    dir,
  ]);
  expect(applied.code, applied.stderr).toBe(0);

  await client.apply(
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: 'checkout-dev',
        namespace: 'argocd',
        labels: { 'changeproof.dev/service': 'checkout', 'changeproof.dev/env': 'dev' },
      },
      status: {
        history: [{ id: historyId, revision, deployedAt: new Date().toISOString() }],
        sync: { status: 'Synced', revision },
        health: { status: 'Healthy' },
      },
    },
    { fieldManager: 'argocd-application-controller', force: true },
  );
}

async function verifications() {
  const entries = await world.ledger.list({
    kind: 'verification.sealed',
    subject: 'app:dev/checkout',
  });
  return entries.map((entry) => ({
    actor: entry.actor,
    ...evidenceOf(entry, 'verification.sealed')!,
  }));
}

describe('changeproof verification with cdEngine: argocd', () => {
  it('seals live-equals-approved for what Argo CD deployed, and reports an out-of-band change', async () => {
    const image = await world.pushImage('argocd-v1');
    const commit = await world.commit(appFiles(image));
    await argocdSyncs(commit, 1);
    await eventually(async () => {
      const synced = await world.ledger.list({
        kind: 'sync.completed',
        subject: 'deployment:dev/checkout/1',
      });
      return synced.length > 0;
    });

    verification = scheduleArgocdVerification({
      environments: [world.environment('dev', { verifyInterval: '1s' })],
      startObserver: () => world.startEngine({ mode: 'observe' }),
      onError: (error) => errors.push(error),
      tickMs: 100,
    });

    // The schedule verifies on its own: the signed image Argo CD deployed equals the approved commit.
    const [first] = await eventually(async () => {
      const sealed = await verifications();
      return sealed.length > 0 && sealed;
    }, 20_000);
    expect(errors).toEqual([]);
    expect(first).toMatchObject({ actor: 'system:cd-engine', configCommit: commit, equal: true });
    expect(first!.desiredDigest).toMatch(/^sha256:/);
    expect(first!.liveDigest).toBe(first!.desiredDigest);
    expect(first!.attestation).toHaveProperty('signatures');

    // Verification only reads: every field of the Deployment is Argo CD's, none changeproof's.
    const deployment = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'checkout-dev',
    });
    const managedFields = (deployment?.metadata.managedFields ?? []) as { manager: string }[];
    const managers = managedFields.map((field) => field.manager);
    expect(managers).toContain('argocd-controller');
    expect(managers).not.toContain('changeproof');

    // Someone scales the Deployment by hand: the next scheduled verification reports it.
    const scaled = await kubectl(world.sandbox, [
      'scale',
      'deployment/checkout',
      '-n',
      'checkout-dev',
      '--replicas=5',
    ]);
    expect(scaled.code, scaled.stderr).toBe(0);
    const differing = await eventually(async () => {
      const sealed = await verifications();
      return sealed.find((entry) => !entry.equal);
    }, 20_000);
    expect(differing).toMatchObject({ configCommit: commit, desiredDigest: first!.desiredDigest });
    expect(differing.liveDigest).not.toBe(first!.desiredDigest);
  }, 90_000);
});
