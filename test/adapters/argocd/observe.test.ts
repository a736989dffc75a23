import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArgocdObserver, type ArgocdObserver } from '../../../src/adapters/argocd/observe.ts';
import { KubeClient } from '../../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../../src/adapters/kubernetes/config.ts';
import { evidenceOf } from '../../../src/domain/evidence.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { ledgerIncidentSink } from '../../../src/reconcile/ports.ts';
import { removeDir, startTestSandbox, type TestSandbox } from '../../sandbox/helpers.ts';
import { freshStore } from '../../support/stores.ts';
import { applicationCrd } from './fixtures.ts';

const digest = `sha256:${'ab'.repeat(32)}`;
const revA = 'a'.repeat(40);
const revB = 'b'.repeat(40);
const revC = 'c'.repeat(40);

let sandbox: TestSandbox;
let client: KubeClient;
let ledger: Ledger;
let disposeStore: () => Promise<void>;
let observer: ArgocdObserver;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  client = new KubeClient(loadKubeconfig(sandbox.kubeconfig));
  await client.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } },
    { fieldManager: 'test' },
  );
  await client.apply(applicationCrd, { fieldManager: 'test' });
  const fresh = await freshStore('sqlite');
  ledger = new Ledger(fresh.store);
  disposeStore = fresh.dispose;
}, 60_000);

afterAll(async () => {
  observer?.stop();
  client?.close();
  await sandbox?.stop();
  if (sandbox) removeDir(sandbox.dir);
  await disposeStore?.();
});

/** Writes the Application as Argo CD's controller would; its resourceVersion. */
async function applyApplication(status: object, extra: object = {}): Promise<string> {
  const written = await client.apply(
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: 'payments-prod',
        namespace: 'argocd',
        labels: { 'changeproof.dev/service': 'payments', 'changeproof.dev/env': 'prod' },
      },
      spec: {
        project: 'changeproof-prod',
        source: { repoURL: 'https://git.acme/config.git', path: 'apps/payments/overlays/prod' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'payments' },
        syncPolicy: { automated: { selfHeal: true, prune: true } },
      },
      status,
      ...extra,
    },
    { fieldManager: 'argocd-application-controller', force: true },
  );
  return String(written.metadata.resourceVersion);
}

/** Writes the Application as Argo CD's controller would, and waits until observation saw it. */
async function argocdWrites(status: object, extra: object = {}): Promise<void> {
  const version = await applyApplication(status, extra);
  const deadline = Date.now() + 10_000;
  while (observer.observedVersion('argocd/payments-prod') !== version) {
    if (Date.now() > deadline) throw new Error(`observation never saw version ${version}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function evidence<
  K extends
    'sync.completed' | 'sync.failed' | 'incident.opened' | 'drift.detected' | 'drift.reverted',
>(kind: K) {
  return (await ledger.list({ kind })).map((entry) => ({
    ...entry,
    payload: evidenceOf(entry, kind)!,
  }));
}

const observe = () =>
  startArgocdObserver({
    client,
    ledger,
    namespace: 'argocd',
    incidents: ledgerIncidentSink(ledger),
  });
const first = {
  id: 0,
  revision: revA,
  deployStartedAt: '2026-12-01T10:00:00Z',
  deployedAt: '2026-12-01T10:00:05Z',
  initiatedBy: { automated: true },
};
const second = {
  id: 1,
  revision: revB,
  deployedAt: '2026-12-01T11:00:00Z',
  initiatedBy: { username: 'pat' },
};
const synced = (revision: string, history: object[]) => ({
  history,
  sync: { status: 'Synced', revision },
  health: { status: 'Healthy' },
  summary: { images: [`ghcr.io/acme/payments:1.4.0@${digest}`] },
  resources: [{ kind: 'Deployment', namespace: 'payments', name: 'payments', status: 'Synced' }],
});

describe('Argo CD observation', () => {
  it('records a sync.completed for each new history entry, from what Argo CD reports', async () => {
    observer = await observe();
    await argocdWrites(synced(revA, [first]));
    const [sync] = await evidence('sync.completed');
    expect(sync).toMatchObject({
      subject: 'deployment:prod/payments/0',
      actor: 'argocd',
      payload: {
        deployment: 'prod/payments/0',
        app: 'prod/payments',
        env: 'prod',
        service: 'payments',
        configCommit: revA,
        images: [{ name: 'ghcr.io/acme/payments', digest }],
        desiredDigest: `argocd:${revA}`,
        liveDigest: `argocd:${revA}`,
        startedAt: '2026-12-01T10:00:00Z',
        finishedAt: '2026-12-01T10:00:05Z',
        initiator: 'argocd:automated',
        health: 'Healthy',
      },
    });

    // A sync Argo CD has not compared yet waits; once it has, it is recorded with its initiator.
    await argocdWrites({
      ...synced(revA, [first, second]),
      sync: { status: 'OutOfSync', revision: revA },
    });
    expect(await evidence('sync.completed')).toHaveLength(1);
    await argocdWrites(synced(revB, [first, second]));
    const syncs = await evidence('sync.completed');
    expect(syncs.map((s) => [s.payload.deployment, s.payload.initiator])).toEqual([
      ['prod/payments/0', 'argocd:automated'],
      ['prod/payments/1', 'pat'],
    ]);
    // Seen again (a relist, a status update) it is not recorded again.
    await argocdWrites({ ...synced(revB, [first, second]), health: { status: 'Progressing' } });
    expect(await evidence('sync.completed')).toHaveLength(2);
  });

  it('after a restart, records what happened meanwhile and nothing twice', async () => {
    observer.stop();
    const third = {
      id: 2,
      revision: revC,
      deployedAt: '2026-12-01T12:00:00Z',
      initiatedBy: { username: 'carol' },
    };
    await applyApplication(synced(revC, [first, second, third]));
    observer = await observe();
    await observer.settled();
    await argocdWrites(synced(revC, [first, second, third]));
    const syncs = await evidence('sync.completed');
    expect(syncs.map((s) => s.payload.configCommit)).toEqual([revA, revB, revC]);
  });

  it('records drift once when a resource goes OutOfSync with no operation, and its revert', async () => {
    const history = [first, second, { id: 2, revision: revC, deployedAt: '2026-12-01T12:00:00Z' }];
    const drifted = {
      ...synced(revC, history),
      sync: { status: 'OutOfSync', revision: revC },
      resources: [
        { kind: 'Deployment', namespace: 'payments', name: 'payments', status: 'OutOfSync' },
      ],
    };
    // While Argo CD is syncing, OutOfSync is expected: no drift.
    await argocdWrites({ ...drifted, operationState: { phase: 'Running' } });
    expect(await evidence('drift.detected')).toHaveLength(0);
    await argocdWrites({ ...drifted, operationState: { phase: 'Succeeded' } });
    const [drift] = await evidence('drift.detected');
    expect(drift).toMatchObject({
      subject: 'app:prod/payments',
      payload: {
        app: 'prod/payments',
        object: 'Deployment/payments/payments',
        desiredDigest: `argocd:${revC}`,
        action: 'reverted',
      },
    });
    await argocdWrites({ ...drifted, health: { status: 'Degraded' } });
    observer.stop();
    observer = await observe();
    await argocdWrites({ ...drifted, health: { status: 'Healthy' } });
    expect(await evidence('drift.detected')).toHaveLength(1);

    await argocdWrites(synced(revC, history));
    expect((await evidence('drift.reverted')).map((r) => r.payload.object)).toEqual([
      'Deployment/payments/payments',
    ]);
  });

  it('does not call a new revision waiting to be synced drift', async () => {
    const history = [first, second, { id: 2, revision: revC, deployedAt: '2026-12-01T12:00:00Z' }];
    await argocdWrites({
      ...synced(revC, history),
      sync: { status: 'OutOfSync', revision: 'd'.repeat(40) },
      resources: [
        { kind: 'Deployment', namespace: 'payments', name: 'payments', status: 'OutOfSync' },
      ],
    });
    expect(await evidence('drift.detected')).toHaveLength(1);
  });

  it('records a Failed or Error operation as sync.failed with an incident, once each', async () => {
    const history = [first, second, { id: 2, revision: revC, deployedAt: '2026-12-01T12:00:00Z' }];
    const revD = 'd'.repeat(40);
    const failedAt = (phase: string, startedAt: string) => ({
      ...synced(revC, history),
      operationState: {
        phase,
        message: 'one or more objects failed to apply',
        startedAt,
        finishedAt: startedAt,
        operation: { sync: { revision: revD } },
      },
    });
    await argocdWrites({ ...failedAt('Running', '2026-12-01T13:00:00Z') });
    expect(await evidence('sync.failed')).toHaveLength(0);

    await argocdWrites(failedAt('Failed', '2026-12-01T13:00:00Z'));
    const [failed] = await evidence('sync.failed');
    expect(failed).toMatchObject({
      actor: 'argocd',
      subject: 'deployment:prod/payments/op-2026-12-01T13:00:00Z',
      payload: {
        app: 'prod/payments',
        configCommit: revD,
        reason: 'Argo CD sync failed: one or more objects failed to apply',
      },
    });
    const [incident] = await evidence('incident.opened');
    expect(incident?.payload).toMatchObject({
      app: 'prod/payments',
      cause: 'sync-failure',
      link: 'deployment:prod/payments/op-2026-12-01T13:00:00Z',
    });

    // Seen again, and after a restart, the same operation is not recorded twice.
    await argocdWrites({
      ...failedAt('Failed', '2026-12-01T13:00:00Z'),
      health: { status: 'Degraded' },
    });
    observer.stop();
    observer = await observe();
    await argocdWrites(failedAt('Failed', '2026-12-01T13:00:00Z'));
    expect(await evidence('sync.failed')).toHaveLength(1);

    await argocdWrites(failedAt('Error', '2026-12-01T14:00:00Z'));
    expect((await evidence('sync.failed')).map((f) => f.payload.reason)).toEqual([
      'Argo CD sync failed: one or more objects failed to apply',
      'Argo CD sync error: one or more objects failed to apply',
    ]);
    expect(await evidence('incident.opened')).toHaveLength(2);
  });
});
