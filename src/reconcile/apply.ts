import type { KubeClient } from '../adapters/kubernetes/client.ts';
import { KubeError } from '../adapters/kubernetes/errors.ts';
import { objectKey, type KubeObject } from '../gitops/render.ts';
import {
  appLabel,
  applyOrder,
  fieldManager,
  managedByLabel,
  type Application,
} from './application.ts';
import { liveStateDigest, type IgnoreDifference } from './diff.ts';
import { ReconcileError } from './errors.ts';
import { blockingConflicts, describeConflicts, type ConflictPolicy } from './field-conflicts.ts';
import { healthOf, worstHealth, type Health } from './health.ts';

/**
 * Validates and admits every object without changing anything (server-side dry run), so a
 * refusal by validation, an admission webhook or a conflicting field manager stops the sync
 * before the first real write. The dry run does not force: a conflict is taken over only where
 * `conflicts` allows it (see {@link blockingConflicts}), otherwise the sync fails with
 * `FIELD_CONFLICT` naming the fields and their managers. Objects in a namespace the sync itself
 * creates are checked once it exists.
 */
export async function dryRunAll(
  client: KubeClient,
  objects: readonly KubeObject[],
  conflicts: ConflictPolicy = { ignoreDifferences: [], previous: [], selfHeal: false },
): Promise<void> {
  const existing = new Set<string>();
  for (const object of applyOrder(objects)) {
    const namespace = object.metadata.namespace;
    if (namespace && !existing.has(namespace)) {
      const found = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
      if (!found) continue;
      existing.add(namespace);
    }
    await dryRunOne(client, object, conflicts);
  }
}

async function dryRunOne(
  client: KubeClient,
  object: KubeObject,
  policy: ConflictPolicy,
): Promise<void> {
  try {
    await client.apply(object, { fieldManager, dryRun: true });
    return;
  } catch (error) {
    if (!(error instanceof KubeError && error.code === 'CONFLICT')) throw error;
  }
  const live = await client.get(refOf(object));
  const blocking = live ? blockingConflicts(object, live, policy) : [];
  if (blocking.length > 0)
    throw new ReconcileError('FIELD_CONFLICT', describeConflicts(blocking), {
      details: { conflicts: blocking },
    });
  // Only fields ignoreDifferences hands over, or drift self-heal reverts: taken back.
  await client.apply(object, { fieldManager, force: true, dryRun: true });
}

/**
 * Applies every object in sync-phase order. If a write fails part way, the objects already
 * written are put back as `previous` had them (or deleted if `previous` lacked them), so a
 * failed sync leaves the application as it was, and the error is rethrown.
 */
export async function applyAll(
  client: KubeClient,
  objects: readonly KubeObject[],
  previous: readonly KubeObject[] = [],
): Promise<void> {
  const applied: KubeObject[] = [];
  try {
    for (const object of applyOrder(objects)) {
      await client.apply(object, { fieldManager, force: true });
      applied.push(object);
    }
  } catch (error) {
    await restore(client, applied, previous).catch(() => undefined);
    throw error;
  }
}

async function restore(
  client: KubeClient,
  applied: readonly KubeObject[],
  previous: readonly KubeObject[],
): Promise<void> {
  const before = new Map(previous.map((object) => [objectKey(object), object]));
  for (const object of [...applied].reverse()) {
    const earlier = before.get(objectKey(object));
    if (earlier) await client.apply(earlier, { fieldManager, force: true });
    else await client.delete(refOf(object));
  }
}

// Kinds searched for leftovers even when neither the old nor the new desired state has them.
const commonKinds: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'ServiceAccount'],
];

/** Deletes objects labelled as the application's that Git no longer has; returns their keys. */
export async function prune(
  client: KubeClient,
  app: Application,
  desired: readonly KubeObject[],
  previous: readonly KubeObject[] = [],
): Promise<string[]> {
  const wanted = new Set(desired.map(objectKey));
  const kinds = new Map<string, [string, string]>(commonKinds.map((k) => [k.join('|'), k]));
  for (const object of [...desired, ...previous])
    kinds.set(`${object.apiVersion}|${object.kind}`, [object.apiVersion, object.kind]);

  const selector = `${managedByLabel}=${fieldManager},${appLabel}=${app.label}`;
  const pruned: string[] = [];
  for (const [apiVersion, kind] of kinds.values()) {
    const { items } = await client.list(apiVersion, kind, { labelSelector: selector });
    for (const item of items) {
      if (wanted.has(objectKey(item))) continue;
      await client.delete(refOf(item));
      pruned.push(objectKey(item));
    }
  }
  return pruned;
}

/** The live counterpart of each desired object, by key (absent objects are left out). */
export async function readLive(
  client: KubeClient,
  objects: readonly KubeObject[],
): Promise<Map<string, KubeObject>> {
  const live = new Map<string, KubeObject>();
  await Promise.all(
    objects.map(async (object) => {
      const found = await client.get(refOf(object));
      if (found) live.set(objectKey(object), found);
    }),
  );
  return live;
}

/** Waits until every object is Healthy, one is Degraded (terminal), or the time is up. */
export async function waitForHealth(
  client: KubeClient,
  objects: readonly KubeObject[],
  timeoutMs: number,
  pollMs = 50,
): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = await readLive(client, objects);
    const health = worstHealth(objects.map((object) => healthOf(live.get(objectKey(object)))));
    if (health.status === 'Healthy' || health.status === 'Degraded') return health;
    if (Date.now() >= deadline)
      return {
        status: 'Degraded',
        message:
          `not healthy within ${timeoutMs} ms: ${health.status} ${health.message ?? ''}`.trim(),
      };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export async function liveDigestOf(
  client: KubeClient,
  objects: readonly KubeObject[],
  ignore: readonly IgnoreDifference[],
): Promise<string> {
  return liveStateDigest(objects, await readLive(client, objects), ignore);
}

export function refOf(object: KubeObject) {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace,
  };
}

/** Whether an error means the object's kind is unknown (for refusal before any write). */
export function isUnknownKind(error: unknown): boolean {
  return error instanceof KubeError && error.code === 'UNKNOWN_KIND';
}
