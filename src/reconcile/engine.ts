import { mkdirSync } from 'node:fs';
import { KubeClient } from '../adapters/kubernetes/client.ts';
import type { KubeClientConfig } from '../adapters/kubernetes/config.ts';
import { durationMs, type EnvironmentConfig } from '../config/schema.ts';
import { evidenceOf } from '../domain/evidence.ts';
import { messageOf } from '../errors.ts';
import { git } from '../gitops/git.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Signer } from '../supply-chain/signer.ts';
import { objectKey } from '../gitops/render.ts';
import { readLive } from './apply.ts';
import { applicationOf, type AppRuntime } from './application.ts';
import { liveStateDigest } from './diff.ts';
import { healthOf, worstHealth } from './health.ts';
import { headCommit, listAppSources } from './config-repo.ts';
import { DriftDetector, type SelfHealPolicy } from './drift.ts';
import { ReconcileError } from './errors.ts';
import {
  ImageVerifier,
  type ImageTrustPolicy,
  type RegistryClientFactory,
} from './image-verification.ts';
import {
  ledgerChangeLifecycle,
  ledgerIncidentSink,
  type ChangeLifecycle,
  type IncidentSink,
} from './ports.ts';
import { prepare, syncApplication, type SyncDeps, type SyncOutcome } from './sync.ts';
import { verifyApplications, type VerificationResult } from './verification.ts';

export interface CdEngineOptions {
  ledger: Ledger;
  environments: readonly EnvironmentConfig[];
  /** The bare config repo and its protected branch. */
  configRepo: string;
  branch: string;
  clusters: ReadonlyMap<string, KubeClientConfig>;
  trust: ImageTrustPolicy;
  registryClients?: RegistryClientFactory;
  /** Lends the control-plane key for one verification run, and takes it back. */
  controlPlaneSigner(): Promise<{ signer: Signer; release(): Promise<void> }>;
  lifecycle?: ChangeLifecycle;
  incidents?: IncidentSink;
  /** Where commits are checked out for rendering. */
  cacheDir: string;
  /** How often main's ref is read (default 1 s); `notifyMerged()` reads it at once. */
  pollIntervalMs?: number;
  /** Run scheduled verification per the environments' verifyInterval (default true). */
  scheduleVerification?: boolean;
  selfHeal?: SelfHealPolicy;
  /**
   * `run` (default) syncs and heals. `observe` only takes over each application's last healthy
   * deployment from the ledger, for one-shot commands (`apps`, `verify`) beside a running engine.
   */
  mode?: 'run' | 'observe';
  /** Told about failures the engine recovers from by itself. */
  onError?(error: unknown, context: string): void;
}

/** An application's state as `changeproof apps` shows it. */
export interface ApplicationView {
  app: string;
  cluster: string;
  sync: string;
  health: string;
  commit?: string;
  deployment?: string;
  lastError?: string;
}

export interface CdEngine {
  /** Reads main now and syncs what changed (the forge calls it on merge). */
  notifyMerged(): void;
  /** Reconciles now and waits; with an app id (`<env>/<service>`), only that one. */
  syncNow(app?: string): Promise<SyncOutcome[]>;
  /** Verifies and seals every application (of one environment, if given). */
  verify(env?: string): Promise<VerificationResult[]>;
  applications(): ApplicationView[];
  close(): Promise<void>;
}

const actor = 'system:cd-engine';
const concurrency = 8;

/**
 * The built-in CD engine: one application per service and environment found in the config
 * repo's main, synced when main moves, held to its desired state by the drift detector, and
 * verified on a schedule. One engine serves every cluster the environments name.
 */
export async function startCdEngine(options: CdEngineOptions): Promise<CdEngine> {
  mkdirSync(options.cacheDir, { recursive: true });
  const clients = new Map<string, KubeClient>();
  const client = (cluster: string) => {
    let found = clients.get(cluster);
    if (!found) {
      const config = options.clusters.get(cluster);
      if (!config)
        throw new ReconcileError('APP_UNKNOWN', `cluster ${cluster} has no connection configured`);
      found = new KubeClient(config);
      clients.set(cluster, found);
    }
    return found;
  };
  const runtimes = new Map<string, AppRuntime>();
  const byLabel = new Map<string, AppRuntime>();
  const onError = options.onError ?? (() => undefined);
  const deps: SyncDeps = {
    ledger: options.ledger,
    client,
    verifier: new ImageVerifier(options.trust, options.registryClients),
    lifecycle: options.lifecycle ?? ledgerChangeLifecycle(options.ledger),
    incidents: options.incidents ?? ledgerIncidentSink(options.ledger, actor),
    repo: options.configRepo,
    cacheDir: options.cacheDir,
    actor,
  };
  const drift = new DriftDetector(
    { ...deps, appByLabel: (label) => byLabel.get(label), onError },
    options.selfHeal,
  );
  const appTrees = new Map<string, string>();
  const adopted = new Set<string>();
  const retryAt = new Map<string, { at: number; failures: number }>();

  const reconcileApp = async (runtime: AppRuntime, commit: string, tree: string | undefined) => {
    const { app } = runtime;
    if (runtime.syncing) return undefined;
    if (runtime.desired && appTrees.get(app.id) === tree) return undefined;
    const observe = options.mode === 'observe';
    if (!runtime.desired && !adopted.has(app.id)) {
      if (await adopt(deps, runtime, tree, appTrees, !observe)) {
        if (!observe) await drift.watchKindsOf(app.cluster, runtime.desired!.objects);
        return undefined;
      }
    }
    if (observe) return undefined;
    adopted.add(app.id);
    if (runtime.abandonedCommits.has(commit)) return undefined;
    const pending = retryAt.get(app.id);
    if (pending && pending.at > Date.now()) return undefined;

    const outcome = await syncApplication(deps, runtime, commit, actor);
    if (outcome.result === 'failed' && outcome.retry) {
      const failures = (pending?.failures ?? 0) + 1;
      retryAt.set(app.id, { at: Date.now() + Math.min(30_000, 250 * 2 ** failures), failures });
    } else {
      retryAt.delete(app.id);
    }
    if (outcome.result === 'completed') appTrees.set(app.id, tree ?? '');
    if (runtime.desired) await drift.watchKindsOf(app.cluster, runtime.desired.objects);
    return outcome;
  };

  const reconcile = async (only?: string): Promise<SyncOutcome[]> => {
    const commit = await headCommit(options.configRepo, options.branch);
    const trees = await appTreesAt(options.configRepo, commit);
    for (const source of await listAppSources(options.configRepo, commit)) {
      const environment = options.environments.find((env) => env.name === source.env);
      const id = `${source.env}/${source.service}`;
      if (!environment || runtimes.has(id)) continue;
      const runtime = newRuntime(applicationOf(source, environment));
      runtimes.set(id, runtime);
      byLabel.set(runtime.app.label, runtime);
    }
    const selected = [...runtimes.values()].filter((r) => !only || r.app.id === only);
    if (only && selected.length === 0)
      throw new ReconcileError('APP_UNKNOWN', `no application ${only}; see changeproof apps`);
    const outcomes: SyncOutcome[] = [];
    await forEachLimited(selected, concurrency, async (runtime) => {
      try {
        const outcome = await reconcileApp(runtime, commit, trees.get(runtime.app.service));
        if (outcome) outcomes.push(outcome);
      } catch (error) {
        runtime.lastError = messageOf(error);
        onError(error, `reconcile ${runtime.app.id}`);
      }
    });
    return outcomes;
  };

  const loop = serialised(() => reconcile().then(() => undefined), onError);
  const running = options.mode !== 'observe';
  const poll = running ? setInterval(loop, options.pollIntervalMs ?? 1000) : undefined;
  const verifyTimer = running ? scheduleVerification(options, (env) => verify(env)) : undefined;
  await reconcile().catch((error) => onError(error, 'initial reconcile'));

  async function verify(env?: string): Promise<VerificationResult[]> {
    const targets = [...runtimes.values()]
      .filter((r) => (!env || r.app.env === env) && r.desired)
      .map((r) => ({ app: r.app, desired: r.desired! }));
    if (targets.length === 0) return [];
    const lease = await options.controlPlaneSigner();
    try {
      return await verifyApplications({ ...deps, signer: lease.signer }, targets);
    } finally {
      await lease.release();
    }
  }

  return {
    notifyMerged: loop,
    syncNow: (app) => reconcile(app),
    verify,
    applications: () =>
      [...runtimes.values()].map((r) => ({
        app: r.app.id,
        cluster: r.app.cluster,
        sync: r.sync,
        health: r.health.status,
        commit: r.desired?.commit,
        deployment: r.desired?.deployment,
        lastError: r.lastError,
      })),
    close: async () => {
      if (poll) clearInterval(poll);
      if (verifyTimer) clearInterval(verifyTimer);
      drift.stop();
      for (const kube of clients.values()) kube.close();
    },
  };
}

function newRuntime(app: AppRuntime['app']): AppRuntime {
  return {
    app,
    abandonedCommits: new Set(),
    syncing: false,
    sync: 'Unknown',
    health: { status: 'Missing' },
  };
}

/**
 * After a restart: takes over the last healthy deployment from the ledger as the desired state
 * when main still describes the same application tree, without a new sync. The drift detector's
 * first list then shows whatever changed while the engine was down.
 */
async function adopt(
  deps: SyncDeps,
  runtime: AppRuntime,
  tree: string | undefined,
  appTrees: Map<string, string>,
  requireSameTree: boolean,
): Promise<boolean> {
  const { app } = runtime;
  for (const entry of await deps.ledger.list({ kind: 'sync.refused', subject: `app:${app.id}` })) {
    const refused = evidenceOf(entry, 'sync.refused')!;
    // A commit held for its change window (or its change record) still waits; others are final.
    if (refused.code === 'OUTSIDE_WINDOW' || refused.code === 'NO_CHANGE_RECORD')
      runtime.heldForWindow = refused.configCommit;
    else runtime.abandonedCommits.add(refused.configCommit);
  }
  const deployments = await deps.ledger.list({ subject: `deployment:${app.id}/*` });
  for (const entry of deployments) {
    const failed = evidenceOf(entry, 'sync.failed');
    if (failed?.rolledBackTo) runtime.abandonedCommits.add(failed.configCommit);
    const completed = evidenceOf(entry, 'sync.completed');
    if (completed)
      runtime.lastHealthy = { commit: completed.configCommit, deployment: completed.deployment };
  }
  const last = runtime.lastHealthy;
  if (!last) return false;
  const lastTree = (await appTreesAt(deps.repo, last.commit)).get(app.service);
  if (requireSameTree && lastTree !== tree) return false;
  const client = deps.client(app.cluster);
  const prepared = await prepare(deps, client, app, last.commit);
  runtime.desired = { commit: last.commit, deployment: last.deployment, ...prepared };
  const live = await readLive(client, prepared.objects);
  const liveDigest = liveStateDigest(prepared.objects, live, prepared.settings.ignoreDifferences);
  runtime.sync = liveDigest === prepared.digest && lastTree === tree ? 'Synced' : 'OutOfSync';
  runtime.health = worstHealth(prepared.objects.map((o) => healthOf(live.get(objectKey(o)))));
  appTrees.set(app.id, lastTree ?? '');
  return true;
}

/** The tree hash of each `apps/<service>` at a commit: what tells an app's change from others'. */
async function appTreesAt(repo: string, commit: string): Promise<Map<string, string>> {
  const listing = await git(['ls-tree', commit, 'apps/'], { cwd: repo });
  const trees = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const match = /^\d+ tree ([0-9a-f]+)\tapps\/(.+)$/.exec(line);
    if (match) trees.set(match[2]!, match[1]!);
  }
  return trees;
}

/** Runs `work` at most once at a time; a call while it runs schedules exactly one more run. */
function serialised(work: () => Promise<void>, onError: CdEngineOptions['onError'] & object) {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    work()
      .catch((error) => onError(error, 'reconcile'))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  return run;
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

function scheduleVerification(
  options: CdEngineOptions,
  verify: (env: string) => Promise<unknown>,
): NodeJS.Timeout | undefined {
  if (options.scheduleVerification === false) return undefined;
  const due = new Map(
    options.environments.map((env) => [
      env.name,
      Date.now() + durationMs(env.governance.verifyInterval),
    ]),
  );
  const timer = setInterval(() => {
    for (const env of options.environments) {
      if ((due.get(env.name) ?? 0) > Date.now()) continue;
      due.set(env.name, Date.now() + durationMs(env.governance.verifyInterval));
      void verify(env.name).catch((error) => options.onError?.(error, `verify ${env.name}`));
    }
  }, 1000);
  timer.unref();
  return timer;
}
