import { evidenceOf, recordEvidence } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { IncidentSink } from '../../reconcile/ports.ts';
import type { KubeClient, WatchHandle } from '../kubernetes/index.ts';
import {
  changeproofAppOf,
  imagesOf,
  operationInProgress,
  outOfSyncObjects,
  parseApplication,
  type ApplicationObject,
  type HistoryEntry,
} from './application.ts';
import { failedOperationOf, recordFailedOperation } from './failed-operation.ts';

/** The actor of the evidence observation records: Argo CD did it, changeproof saw it. */
export const ARGOCD_ACTOR = 'argocd';

export interface ArgocdObserverOptions {
  client: KubeClient;
  ledger: Ledger;
  /** Where the Applications live (`adapters.argocd.namespace`). */
  namespace: string;
  /** Where a failed sync's incident goes; without one, the failure is recorded only. */
  incidents?: IncidentSink;
  onError?(error: unknown): void;
}

export interface ArgocdObserver {
  /** Resolves once every event received so far is in the ledger. */
  settled(): Promise<void>;
  /** The resourceVersion of an Application (`<namespace>/<name>`) last recorded from. */
  observedVersion(name: string): string | undefined;
  stop(): void;
}

/** What the ledger already holds for one application, read once, then kept up to date. */
interface AppMemory {
  /** `<configCommit>@<deployedAt>` of every recorded sync. */
  syncs: Set<string>;
  deployments: Set<string>;
  /** Objects whose drift is recorded and not yet reverted. */
  drifting: Set<string>;
}

/**
 * Watches Argo CD Applications (list + watch, reconnecting) and records what Argo CD did: a
 * `sync.completed` for each new `status.history[]` entry, `drift.detected` for each resource
 * that goes OutOfSync while no operation runs, `drift.reverted` when it is Synced again, and a
 * `sync.failed` with an incident for an operation that ended Failed or Error.
 * Nothing is recorded twice, across restarts too: what the ledger holds is read first.
 */
export async function startArgocdObserver(options: ArgocdObserverOptions): Promise<ArgocdObserver> {
  const memory = new Map<string, AppMemory>();
  const observed = new Map<string, string>();
  // One event at a time, in order: the ledger read and the append of one app never interleave.
  let queue = Promise.resolve();
  const handle: WatchHandle = await options.client.watch('argoproj.io/v1alpha1', 'Application', {
    namespace: options.namespace,
    onEvent: (type, object) => {
      if (type === 'DELETED') return;
      const application = parseApplication(object);
      if (!application) return;
      const { namespace, name, resourceVersion } = object.metadata;
      queue = queue
        .then(() => observe(options, memory, application))
        .then(() => void observed.set(`${namespace}/${name}`, String(resourceVersion)))
        .catch((error: unknown) => options.onError?.(error));
    },
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    settled: () => queue,
    observedVersion: (name) => observed.get(name),
    stop: () => handle.stop(),
  };
}

async function observe(
  options: ArgocdObserverOptions,
  memory: Map<string, AppMemory>,
  application: ApplicationObject,
): Promise<void> {
  const { ledger } = options;
  const app = changeproofAppOf(application);
  if (!app) return;
  let known = memory.get(app.id);
  if (!known) {
    known = await recall(ledger, app.id);
    memory.set(app.id, known);
  }
  await recordSyncs(ledger, known, app, application);
  await recordFailure(options, known, app.id, application);
  await recordDrift(ledger, known, app.id, application);
}

async function recordFailure(
  options: ArgocdObserverOptions,
  known: AppMemory,
  app: string,
  application: ApplicationObject,
): Promise<void> {
  const failure = failedOperationOf(app, application);
  if (!failure || known.deployments.has(failure.deployment)) return;
  const deps = { ledger: options.ledger, actor: ARGOCD_ACTOR };
  await recordFailedOperation(
    { ...deps, ...(options.incidents ? { incidents: options.incidents } : {}) },
    app,
    failure,
  );
  known.deployments.add(failure.deployment);
}

/** What the ledger says about an app: its recorded syncs, and drift not yet reverted. */
async function recall(ledger: Ledger, app: string): Promise<AppMemory> {
  const known: AppMemory = { syncs: new Set(), deployments: new Set(), drifting: new Set() };
  for (const entry of await ledger.list({ kind: 'sync.failed', subject: `deployment:${app}/*` })) {
    const failed = evidenceOf(entry, 'sync.failed');
    if (failed) known.deployments.add(failed.deployment);
  }
  for (const entry of await ledger.list({
    kind: 'sync.completed',
    subject: `deployment:${app}/*`,
  })) {
    const sync = evidenceOf(entry, 'sync.completed');
    if (!sync) continue;
    known.syncs.add(`${sync.configCommit}@${sync.finishedAt}`);
    known.deployments.add(sync.deployment);
  }
  for (const entry of await ledger.list({ subject: `app:${app}` })) {
    const detected = evidenceOf(entry, 'drift.detected');
    if (detected) known.drifting.add(detected.object);
    const reverted = evidenceOf(entry, 'drift.reverted');
    if (reverted) known.drifting.delete(reverted.object);
  }
  return known;
}

async function recordSyncs(
  ledger: Ledger,
  known: AppMemory,
  app: { id: string; env: string; service: string },
  application: ApplicationObject,
): Promise<void> {
  const history = [...(application.status?.history ?? [])].sort((a, b) => a.id - b.id);
  const newest = history[history.length - 1];
  for (const entry of history) {
    const key = `${entry.revision}@${entry.deployedAt}`;
    if (known.syncs.has(key)) continue;
    // Until Argo CD has compared the newest revision, it cannot say whether live matches it.
    if (entry === newest && application.status?.sync?.revision !== entry.revision) continue;
    const deployment = deploymentId(known, app.id, entry.id);
    await recordEvidence(ledger, 'sync.completed', `deployment:${deployment}`, ARGOCD_ACTOR, {
      deployment,
      app: app.id,
      env: app.env,
      service: app.service,
      configCommit: entry.revision,
      // Only the live state's images are known: status.summary says nothing about older syncs.
      images: entry === newest ? imagesOf(application) : [],
      ...digestsOf(application, entry, entry === newest),
      startedAt: entry.deployStartedAt ?? entry.deployedAt,
      finishedAt: entry.deployedAt,
      initiator: initiatorOf(entry),
      health: entry === newest ? (application.status?.health?.status ?? 'Unknown') : 'Unknown',
    });
    known.syncs.add(key);
    known.deployments.add(deployment);
  }
}

/** `<app>/<history id>`; an Application recreated restarts Argo CD's ids, so a taken id gets a suffix. */
function deploymentId(known: AppMemory, app: string, id: number): string {
  let deployment = `${app}/${id}`;
  for (let again = 2; known.deployments.has(deployment); again++)
    deployment = `${app}/${id}.${again}`;
  return deployment;
}

/**
 * Argo CD tells the revision it applied, and whether live matches it, but no digest of the
 * rendered manifests: the desired "digest" is `argocd:<revision>`, and live equals it when Argo
 * CD reports Synced to that revision (or, for an older entry, when a later sync replaced it: Argo
 * CD records history only for syncs that succeeded).
 */
function digestsOf(application: ApplicationObject, entry: HistoryEntry, newest: boolean) {
  const desiredDigest = `argocd:${entry.revision}`;
  const sync = application.status?.sync;
  const synced = !newest || (sync?.status === 'Synced' && sync.revision === entry.revision);
  return {
    desiredDigest,
    liveDigest: synced ? desiredDigest : `argocd:${sync?.status ?? 'Unknown'}`,
  };
}

function initiatorOf(entry: HistoryEntry): string {
  if (entry.initiatedBy?.automated) return 'argocd:automated';
  return entry.initiatedBy?.username ?? 'argocd:unknown';
}

async function recordDrift(
  ledger: Ledger,
  known: AppMemory,
  app: string,
  application: ApplicationObject,
): Promise<void> {
  const status = application.status?.sync?.status;
  const desiredDigest = `argocd:${application.status?.sync?.revision ?? ''}`;
  // OutOfSync at a revision other than the last one synced is a change waiting to be synced.
  const history = application.status?.history ?? [];
  const lastSynced = history.reduce<HistoryEntry | undefined>(
    (a, b) => (a && a.id > b.id ? a : b),
    undefined,
  );
  const atLastSync =
    lastSynced !== undefined && lastSynced.revision === application.status?.sync?.revision;
  if (status === 'OutOfSync' && atLastSync && !operationInProgress(application)) {
    const objects = outOfSyncObjects(application);
    const drifted =
      objects.length > 0
        ? objects
        : [`Application/${application.metadata.namespace ?? ''}/${application.metadata.name}`];
    const selfHeal = application.spec?.syncPolicy?.automated?.selfHeal === true;
    for (const object of drifted) {
      if (known.drifting.has(object)) continue;
      await recordEvidence(ledger, 'drift.detected', `app:${app}`, ARGOCD_ACTOR, {
        app,
        object,
        // Argo CD's Application status names the resource, not the fields or who changed them.
        fields: [],
        diff: '',
        fieldManager: 'unknown',
        desiredDigest,
        action: selfHeal ? 'reverted' : 'detect-only',
      });
      known.drifting.add(object);
    }
  } else if (status === 'Synced') {
    for (const object of [...known.drifting]) {
      await recordEvidence(ledger, 'drift.reverted', `app:${app}`, ARGOCD_ACTOR, {
        app,
        object,
        desiredDigest,
      });
      known.drifting.delete(object);
    }
  }
}
