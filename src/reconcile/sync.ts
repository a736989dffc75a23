import type { KubeClient } from '../adapters/kubernetes/client.ts';
import { KubeError } from '../adapters/kubernetes/errors.ts';
import { durationMs } from '../config/schema.ts';
import { recordEvidence } from '../domain/evidence.ts';
import { isChangeproofError, messageOf, UpstreamError } from '../errors.ts';
import { desiredStateDigest, objectKey, RenderError } from '../gitops/render.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { applyAll, dryRunAll, liveDigestOf, prune, waitForHealth } from './apply.ts';
import { labelled, type Application, type AppRuntime, type DesiredState } from './application.ts';
import { checkoutCommit, renderApp } from './config-repo.ts';
import { ReconcileError } from './errors.ts';
import type { Health } from './health.ts';
import { imagesIn, type ImageVerifier } from './image-verification.ts';
import type { ChangeLifecycle, IncidentSink } from './ports.ts';

/** What a sync needs from the engine around it. */
export interface SyncDeps {
  ledger: Ledger;
  client(cluster: string): KubeClient;
  verifier: ImageVerifier;
  lifecycle: ChangeLifecycle;
  incidents: IncidentSink;
  /** The bare config repo and where commits are checked out. */
  repo: string;
  cacheDir: string;
  /** Who the engine acts as in the ledger. */
  actor: string;
}

export type SyncOutcome =
  | { result: 'completed'; deployment: string; health: Health; desiredDigest: string }
  | { result: 'refused'; code: string; reason: string }
  | {
      result: 'failed';
      deployment?: string;
      reason: string;
      retry: boolean;
      rolledBackTo?: string;
    };

/** A rendered, labelled, checked commit: safe to apply. */
interface Prepared {
  objects: DesiredState['objects'];
  settings: DesiredState['settings'];
  digest: string;
  images: { name: string; digest: string; signedBy?: string }[];
}

/**
 * Syncs one application to one commit: render, verify before anything is written (kinds,
 * namespaces, every image signed and attested), dry-run, apply, prune, wait for health, and
 * record the deployment. An unhealthy result rolls back to the last healthy deployment.
 */
export async function syncApplication(
  deps: SyncDeps,
  runtime: AppRuntime,
  commit: string,
  initiator: string,
): Promise<SyncOutcome> {
  runtime.syncing = true;
  try {
    return await runSync(deps, runtime, commit, initiator);
  } finally {
    runtime.syncing = false;
  }
}

async function runSync(
  deps: SyncDeps,
  runtime: AppRuntime,
  commit: string,
  initiator: string,
): Promise<SyncOutcome> {
  const { app } = runtime;
  const client = deps.client(app.cluster);
  let prepared: Prepared;
  try {
    prepared = await prepare(deps, client, app, commit);
  } catch (error) {
    return refuseOrFail(deps, runtime, commit, error);
  }

  const change = await deps.lifecycle.changeFor(commit);
  const hold = app.governance.requireWindow ? await windowHold(deps, change, commit) : undefined;
  if (hold) {
    // Recorded once per commit: the engine keeps checking quietly until the window opens.
    if (runtime.heldForWindow !== commit) {
      const images = prepared.images.map((i) => i.name);
      await refusal(deps, app, commit, hold.code, hold.reason, images);
      runtime.heldForWindow = commit;
    }
    return { result: 'refused', ...hold };
  }

  const deployment = await nextDeployment(deps.ledger, runtime);
  const startedAt = new Date().toISOString();
  await recordEvidence(deps.ledger, 'sync.started', `deployment:${deployment}`, deps.actor, {
    deployment,
    app: app.id,
    configCommit: commit,
    ...(change ? { change } : {}),
    initiator,
  });

  const previous = runtime.desired?.objects ?? [];
  try {
    await dryRunAll(client, prepared.objects, {
      ignoreDifferences: prepared.settings.ignoreDifferences,
      previous,
      selfHeal: prepared.settings.selfHeal ?? app.governance.selfHeal,
    });
    await applyAll(client, prepared.objects, previous);
    if (app.governance.prune) await prune(client, app, prepared.objects, previous);
  } catch (error) {
    const reason = `apply failed, nothing kept: ${messageOf(error)}`;
    await recordFailure(deps, app, deployment, commit, reason);
    const retry = isChangeproofError(error) && error.category === 'upstream';
    if (!retry) runtime.abandonedCommits.add(commit);
    return { result: 'failed', deployment, reason, retry };
  }
  runtime.desired = { commit, deployment, ...prepared };

  let health: Health;
  let liveDigest: string;
  try {
    health = await waitForHealth(client, prepared.objects, durationMs(app.governance.syncTimeout));
    runtime.health = health;
    if (health.status !== 'Healthy')
      return await rollBack(deps, runtime, deployment, commit, change, health);
    liveDigest = await liveDigestOf(client, prepared.objects, prepared.settings.ignoreDifferences);
  } catch (error) {
    // The cluster went away after the writes: the next attempt applies again and converges.
    const reason = `cluster lost while waiting for health: ${messageOf(error)}`;
    await recordFailure(deps, app, deployment, commit, reason);
    runtime.lastError = reason;
    return { result: 'failed', deployment, reason, retry: true };
  }
  const finishedAt = new Date().toISOString();
  await recordEvidence(deps.ledger, 'sync.completed', `deployment:${deployment}`, deps.actor, {
    deployment,
    app: app.id,
    env: app.env,
    service: app.service,
    configCommit: commit,
    ...(change ? { change } : {}),
    images: prepared.images,
    desiredDigest: prepared.digest,
    liveDigest,
    startedAt,
    finishedAt,
    initiator,
    health: health.status,
  });
  runtime.lastHealthy = { commit, deployment };
  runtime.sync = liveDigest === prepared.digest ? 'Synced' : 'OutOfSync';
  runtime.lastError = undefined;
  if (change) {
    await deps.lifecycle.onSyncSucceeded(change, {
      deployment,
      app: app.id,
      configCommit: commit,
      desiredDigest: prepared.digest,
      liveDigest,
      finishedAt,
    });
  }
  return { result: 'completed', deployment, health, desiredDigest: prepared.digest };
}

/**
 * Why a commit to an environment that requires change windows may not sync now. Fail closed: a
 * commit no change record approved, or a lifecycle that cannot tell windows, is held as well.
 */
async function windowHold(
  deps: SyncDeps,
  change: string | undefined,
  commit: string,
): Promise<{ code: 'OUTSIDE_WINDOW' | 'NO_CHANGE_RECORD'; reason: string } | undefined> {
  if (!change) {
    const reason = `commit ${commit.slice(0, 12)} has no change record; the environment syncs only approved changes in their window`;
    return { code: 'NO_CHANGE_RECORD', reason };
  }
  const open = deps.lifecycle.withinWindow
    ? await deps.lifecycle.withinWindow(change, new Date())
    : false;
  if (open) return undefined;
  return {
    code: 'OUTSIDE_WINDOW',
    reason: `change ${change} is outside its window; the sync waits for it`,
  };
}

/** Renders and checks a commit for an application; throws before anything is written. */
export async function prepare(
  deps: Pick<SyncDeps, 'repo' | 'cacheDir' | 'verifier'>,
  client: KubeClient,
  app: Application,
  commit: string,
): Promise<Prepared> {
  const tree = await checkoutCommit(deps.repo, commit, deps.cacheDir);
  const rendered = await renderApp(tree, app);
  const objects = labelled(rendered.objects, app);

  const seen = new Set<string>();
  for (const object of objects) {
    const key = objectKey(object);
    if (seen.has(key)) throw new ReconcileError('DUPLICATE_OBJECT', `${key} is rendered twice`);
    seen.add(key);
    const info = await client.resourceFor(object.apiVersion, object.kind);
    if (info.namespaced && !object.metadata.namespace) {
      throw new ReconcileError(
        'NAMESPACE_REQUIRED',
        `${object.kind} ${object.metadata.name} names no namespace; set namespace: in the overlay`,
      );
    }
  }

  const verdicts = await deps.verifier.verifyAll(imagesIn(objects));
  const upstream = verdicts.find((v) => !v.trusted && v.upstream);
  if (upstream && !upstream.trusted) throw new UpstreamError('registry', upstream.reason);
  const refused = verdicts.flatMap((v) => (v.trusted ? [] : [v.reason]));
  if (refused.length > 0)
    throw new ReconcileError('IMAGE_UNTRUSTED', refused.join('; '), {
      details: { images: imagesIn(objects) },
    });
  const images = verdicts.flatMap((v) =>
    v.trusted ? [{ name: v.image, digest: v.digest, signedBy: v.signedBy }] : [],
  );
  return { objects, settings: rendered.settings, digest: desiredStateDigest(objects), images };
}

async function refuseOrFail(
  deps: SyncDeps,
  runtime: AppRuntime,
  commit: string,
  error: unknown,
): Promise<SyncOutcome> {
  const known =
    error instanceof ReconcileError || error instanceof KubeError || error instanceof RenderError;
  if (!known || error.category === 'upstream') {
    runtime.lastError = messageOf(error);
    return { result: 'failed', reason: messageOf(error), retry: true };
  }
  const code = error.code;
  const images = (error.details.images as string[] | undefined) ?? [];
  await refusal(deps, runtime.app, commit, code, messageOf(error), images);
  runtime.abandonedCommits.add(commit);
  runtime.lastError = messageOf(error);
  return { result: 'refused', code, reason: messageOf(error) };
}

async function refusal(
  deps: SyncDeps,
  app: Application,
  commit: string,
  code: string,
  reason: string,
  images: string[],
): Promise<void> {
  await recordEvidence(deps.ledger, 'sync.refused', `app:${app.id}`, deps.actor, {
    app: app.id,
    configCommit: commit,
    code,
    reason,
    images,
  });
}

async function recordFailure(
  deps: SyncDeps,
  app: Application,
  deployment: string,
  commit: string,
  reason: string,
  rolledBackTo?: string,
): Promise<void> {
  await recordEvidence(deps.ledger, 'sync.failed', `deployment:${deployment}`, deps.actor, {
    deployment,
    app: app.id,
    configCommit: commit,
    reason,
    ...(rolledBackTo ? { rolledBackTo } : {}),
  });
}

/** Puts the last healthy deployment back, records the failure and opens an incident. */
async function rollBack(
  deps: SyncDeps,
  runtime: AppRuntime,
  deployment: string,
  commit: string,
  change: string | undefined,
  health: Health,
): Promise<SyncOutcome> {
  const { app } = runtime;
  const client = deps.client(app.cluster);
  const failed = runtime.desired?.objects ?? [];
  const target = runtime.lastHealthy;
  runtime.abandonedCommits.add(commit);
  let reason = `not healthy within ${app.governance.syncTimeout}: ${health.message ?? health.status}`;
  if (target) {
    try {
      const earlier = await prepare(deps, client, app, target.commit);
      await applyAll(client, earlier.objects, failed);
      if (app.governance.prune) await prune(client, app, earlier.objects, failed);
      runtime.desired = { commit: target.commit, deployment: target.deployment, ...earlier };
      runtime.health = await waitForHealth(
        client,
        earlier.objects,
        durationMs(app.governance.syncTimeout),
      );
      // Live is the earlier revision again, not main: Argo CD shows the same.
      runtime.sync = 'OutOfSync';
    } catch (error) {
      reason = `${reason}; rollback to ${target.deployment} failed: ${messageOf(error)}`;
    }
  }
  await recordFailure(deps, app, deployment, commit, reason, target?.deployment);
  const incident = await deps.incidents.open({
    app: app.id,
    cause: 'sync-failure',
    summary: reason,
    link: `deployment:${deployment}`,
  });
  if (change) await deps.lifecycle.onSyncFailed(change, { incident, reason, deployment });
  runtime.lastError = reason;
  return { result: 'failed', deployment, reason, retry: false, rolledBackTo: target?.deployment };
}

/** `<env>/<service>/<n>`: the n-th sync of the application, counted from the ledger once. */
async function nextDeployment(ledger: Ledger, runtime: AppRuntime): Promise<string> {
  if (runtime.deployments === undefined) {
    const started = await ledger.list({
      kind: 'sync.started',
      subject: `deployment:${runtime.app.id}/*`,
    });
    runtime.deployments = started.length;
  }
  runtime.deployments += 1;
  return `${runtime.app.id}/${runtime.deployments}`;
}
