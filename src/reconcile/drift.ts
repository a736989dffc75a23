import type { KubeClient } from '../adapters/kubernetes/client.ts';
import type { WatchHandle } from '../adapters/kubernetes/watch.ts';
import { recordEvidence } from '../domain/evidence.ts';
import { messageOf } from '../errors.ts';
import { objectKey, type KubeObject } from '../gitops/render.ts';
import type { Ledger } from '../ledger/ledger.ts';
import {
  appLabel,
  fieldManager,
  managedByLabel,
  selfHealOf,
  type AppRuntime,
} from './application.ts';
import { diffObject, redactedDiff, type FieldDifference } from './diff.ts';
import { fieldOwners, ownerOf } from './managed-fields.ts';
import type { IncidentSink } from './ports.ts';

export interface DriftDeps {
  ledger: Ledger;
  client(cluster: string): KubeClient;
  incidents: IncidentSink;
  actor: string;
  /** The application a `changeproof.dev/app` label value names. */
  appByLabel(label: string): AppRuntime | undefined;
  /** Told about failures (a revert refused, a watch dropped); the detector carries on. */
  onError?(error: unknown, context: string): void;
}

/** How self-heal spaces out reverts of the same object, and when it calls it flapping. */
export interface SelfHealPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Reverts within `windowMs` after which the object is flapping. */
  flappingAfter: number;
  windowMs: number;
}

export const defaultSelfHealPolicy: SelfHealPolicy = {
  firstDelayMs: 500,
  maxDelayMs: 300_000,
  flappingAfter: 3,
  windowMs: 300_000,
};

interface ObjectDrift {
  drifting: boolean;
  signature?: string;
  incident?: string;
  reverts: number[];
  flappingReported: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Watch-driven drift detection: every change event of an object changeproof owns is compared
 * with the desired state at once (no polling delay). Drift is recorded with a redacted diff and
 * the field manager that wrote it, opens an incident, and is reverted where self-heal is on:
 * the first revert at once, repeats with exponential backoff, and a flapping alert when the
 * same object keeps being rewritten.
 */
export class DriftDetector {
  private readonly watches = new Map<string, WatchHandle>();
  private readonly states = new Map<string, ObjectDrift>();
  private closed = false;

  constructor(
    private readonly deps: DriftDeps,
    private readonly policy: SelfHealPolicy = defaultSelfHealPolicy,
  ) {}

  /** Starts watching the kinds of these objects on the cluster, once per kind. */
  async watchKindsOf(cluster: string, objects: readonly KubeObject[]): Promise<void> {
    for (const object of objects) {
      const key = `${cluster}|${object.apiVersion}|${object.kind}`;
      if (this.watches.has(key) || this.closed) continue;
      const handle = await this.deps.client(cluster).watch(object.apiVersion, object.kind, {
        labelSelector: `${managedByLabel}=${fieldManager}`,
        onEvent: (type, live) => {
          // A failed check (the ledger or the incident system refusing) is reported, never left
          // as an unhandled rejection that would end the process.
          const handled = type === 'DELETED' ? this.onDeleted(live) : this.check(live);
          handled.catch((error: unknown) =>
            this.deps.onError?.(error, `drift check of ${objectKey(live)}: ${messageOf(error)}`),
          );
        },
        onError: (error) => this.deps.onError?.(error, `watch ${object.kind} on ${cluster}`),
      });
      this.watches.set(key, handle);
    }
  }

  /** Compares one live object with its desired state and answers drift. */
  async check(live: KubeObject): Promise<void> {
    const found = this.desiredOf(live);
    if (!found) return;
    const { runtime, desired } = found;
    const rules = runtime.desired?.settings.ignoreDifferences ?? [];
    const differences = diffObject(desired, live, rules);
    const state = this.stateOf(runtime, desired);
    if (differences.length === 0) return this.settled(runtime, desired, state);

    const signature = JSON.stringify(differences);
    if (state.drifting && state.signature === signature) return;
    state.drifting = true;
    state.signature = signature;
    const manager = ownerOf(fieldOwners(live), differences[0]!.path, fieldManager) ?? 'unknown';
    await this.recordDrift(runtime, desired, live, differences, manager, state);
  }

  stop(): void {
    this.closed = true;
    for (const handle of this.watches.values()) handle.stop();
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.watches.clear();
  }

  private async onDeleted(live: KubeObject): Promise<void> {
    const found = this.desiredOf(live);
    if (!found) return;
    const state = this.stateOf(found.runtime, found.desired);
    state.drifting = true;
    state.signature = 'deleted';
    const deleted: FieldDifference[] = [{ path: '', desired: 'present', live: 'deleted' }];
    await this.recordDrift(found.runtime, found.desired, live, deleted, 'unknown (deleted)', state);
  }

  private desiredOf(live: KubeObject): { runtime: AppRuntime; desired: KubeObject } | undefined {
    const label = live.metadata.labels?.[appLabel];
    const runtime = label ? this.deps.appByLabel(label) : undefined;
    // During a sync the engine itself is changing the objects: that is not drift.
    if (!runtime?.desired || runtime.syncing || this.closed) return undefined;
    const key = objectKey(live);
    const desired = runtime.desired.objects.find((object) => objectKey(object) === key);
    return desired ? { runtime, desired } : undefined;
  }

  private stateOf(runtime: AppRuntime, desired: KubeObject): ObjectDrift {
    const key = `${runtime.app.id}|${objectKey(desired)}`;
    let state = this.states.get(key);
    if (!state) {
      state = { drifting: false, reverts: [], flappingReported: false };
      this.states.set(key, state);
    }
    return state;
  }

  private async recordDrift(
    runtime: AppRuntime,
    desired: KubeObject,
    live: KubeObject,
    differences: FieldDifference[],
    manager: string,
    state: ObjectDrift,
  ): Promise<void> {
    const selfHeal = selfHealOf(runtime);
    runtime.sync = 'OutOfSync';
    await recordEvidence(
      this.deps.ledger,
      'drift.detected',
      `app:${runtime.app.id}`,
      this.deps.actor,
      {
        app: runtime.app.id,
        object: objectKey(desired),
        fields: differences.map((difference) => difference.path || '/'),
        diff: redactedDiff(live, differences),
        fieldManager: manager,
        desiredDigest: runtime.desired!.digest,
        action: selfHeal ? 'reverted' : 'detect-only',
      },
    );
    state.incident ??= await this.deps.incidents.open({
      app: runtime.app.id,
      cause: 'drift',
      summary: `${objectKey(desired)} changed by ${manager}`,
      link: `drift:${runtime.app.id}/${objectKey(desired)}`,
    });
    if (selfHeal) this.scheduleRevert(runtime, desired, state);
  }

  private scheduleRevert(runtime: AppRuntime, desired: KubeObject, state: ObjectDrift): void {
    const now = Date.now();
    state.reverts = state.reverts.filter((time) => now - time < this.policy.windowMs);
    const delay =
      state.reverts.length === 0
        ? 0
        : Math.min(
            this.policy.maxDelayMs,
            this.policy.firstDelayMs * 2 ** (state.reverts.length - 1),
          );
    if (state.reverts.length >= this.policy.flappingAfter && !state.flappingReported) {
      state.flappingReported = true;
      void this.deps.incidents
        .open({
          app: runtime.app.id,
          cause: 'drift',
          summary: `${objectKey(desired)} flapping: rewritten ${state.reverts.length} times`,
          link: `flapping:${runtime.app.id}/${objectKey(desired)}`,
        })
        .catch((error) => this.deps.onError?.(error, 'flapping alert'));
    }
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.reverts.push(Date.now());
      this.deps
        .client(runtime.app.cluster)
        .apply(desired, { fieldManager, force: true })
        .catch((error) =>
          this.deps.onError?.(error, `revert ${objectKey(desired)}: ${messageOf(error)}`),
        );
    }, delay);
  }

  private async settled(
    runtime: AppRuntime,
    desired: KubeObject,
    state: ObjectDrift,
  ): Promise<void> {
    if (!state.drifting) return;
    state.drifting = false;
    state.signature = undefined;
    runtime.sync = 'Synced';
    await recordEvidence(
      this.deps.ledger,
      'drift.reverted',
      `app:${runtime.app.id}`,
      this.deps.actor,
      {
        app: runtime.app.id,
        object: objectKey(desired),
        desiredDigest: runtime.desired!.digest,
      },
    );
    if (state.incident) {
      const incident = state.incident;
      state.incident = undefined;
      await this.deps.incidents.resolve(
        incident,
        `live state equals ${runtime.desired!.digest} again`,
      );
    }
  }
}
