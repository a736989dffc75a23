import { recordUpdate } from './apply/managed-fields.ts';
import { timestamp } from './context.ts';
import { isJsonObject, type JsonObject, type KubeObject } from './objects.ts';
import type { ObjectStore } from './store.ts';
import type { ChangeEvent } from './watch-hub.ts';

/** Decides whether an image may run (present in the registry, signed); the reason if not. */
export type ImagePolicy = (image: string) => Promise<{ allowed: boolean; reason?: string }>;

/** The simulated outcome of a rollout: ready, or stuck on an image that may not run. */
export interface RolloutOutcome {
  ready: boolean;
  /** When not ready: the image refused and why. */
  image?: string;
  reason?: string;
}

const simulatedKinds = [
  'apps/deployments',
  'apps/statefulsets',
  'apps/daemonsets',
  'apps/replicasets',
  '/pods',
];
const controllerManager = 'kube-controller-manager';

/**
 * Workload status as kwok simulates it: when a workload's spec changes, its status first shows
 * the rollout in progress, and after `delayMs` either ready (every image allowed by the policy)
 * or stuck (an image refused: Available=False, Progressing=False with the reason). No pods are
 * run; the status is written through the status subresource as the controllers would.
 */
export class WorkloadSimulation {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribers: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly imagePolicy: ImagePolicy,
    private readonly delayMs: number,
  ) {}

  /** Watches the workload kinds and resumes rollouts left unfinished by a restart. */
  start(): void {
    for (const storageKey of simulatedKinds) {
      this.unsubscribers.push(
        this.store.hub.subscribe(storageKey, (event) => this.onChange(event)),
      );
      for (const stored of this.store.list(storageKey)) {
        if (needsRollout(stored.object) || isRollingOut(stored.object))
          this.schedule(storageKey, stored.object);
      }
    }
  }

  stop(): void {
    this.closed = true;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private onChange(event: ChangeEvent): void {
    if (event.type === 'DELETED') {
      clearTimeout(this.timers.get(keyOf(event.storageKey, event.object)));
      return;
    }
    if (!needsRollout(event.object)) return;
    // Deferred, as a controller reacts after the write: writing inside the notification would
    // deliver the status change to later watchers before the change that caused it.
    setImmediate(() => {
      const { namespace, name } = event.object.metadata;
      const current = this.store.get(event.storageKey, namespace, name)?.object;
      if (this.closed || !current || !needsRollout(current)) return;
      this.writeStatus(event.storageKey, current, progressingStatus(current));
      this.schedule(event.storageKey, current);
    });
  }

  private schedule(storageKey: string, object: KubeObject): void {
    const key = keyOf(storageKey, object);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void this.finishRollout(storageKey, object.metadata.namespace, object.metadata.name);
    }, this.delayMs);
    this.timers.set(key, timer);
  }

  private async finishRollout(
    storageKey: string,
    namespace: string | undefined,
    name: string,
  ): Promise<void> {
    const before = this.store.get(storageKey, namespace, name)?.object;
    if (!before) return;
    const outcome = await this.evaluate(imagesOf(before));
    const current = this.store.get(storageKey, namespace, name)?.object;
    // A newer spec arrived while the policy was consulted: its own rollout decides.
    if (this.closed || !current || current.metadata.generation !== before.metadata.generation)
      return;
    this.writeStatus(storageKey, current, finalStatus(current, outcome));
  }

  private async evaluate(images: string[]): Promise<RolloutOutcome> {
    for (const image of images) {
      const verdict = await this.imagePolicy(image).catch((error: Error) => ({
        allowed: false,
        reason: error.message,
      }));
      if (!verdict.allowed) return { ready: false, image, reason: verdict.reason ?? 'not allowed' };
    }
    return { ready: true };
  }

  private writeStatus(storageKey: string, current: KubeObject, status: JsonObject): void {
    const next: KubeObject = { ...current, metadata: { ...current.metadata }, status };
    const writer = {
      manager: controllerManager,
      apiVersion: current.apiVersion,
      subresource: 'status' as const,
      time: timestamp(),
    };
    recordUpdate(current, next, writer, 'status');
    this.store.put(storageKey, next);
  }
}

function keyOf(storageKey: string, object: KubeObject): string {
  return `${storageKey}|${object.metadata.namespace ?? ''}|${object.metadata.name}`;
}

function statusOf(object: KubeObject): JsonObject {
  return isJsonObject(object.status) ? object.status : {};
}

function needsRollout(object: KubeObject): boolean {
  if (object.kind === 'Pod')
    return !statusOf(object).conditions && !object.metadata.deletionTimestamp;
  return statusOf(object).observedGeneration !== object.metadata.generation;
}

function isRollingOut(object: KubeObject): boolean {
  if (object.kind === 'Pod')
    return statusOf(object).phase === 'Pending' && !statusOf(object).containerStatuses;
  const conditions = (statusOf(object).conditions ?? []) as JsonObject[];
  return conditions.some(
    (condition) => condition.type === 'Progressing' && condition.reason === 'ReplicaSetUpdated',
  );
}

function podSpecOf(object: KubeObject): JsonObject {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  if (object.kind === 'Pod') return spec;
  const template = isJsonObject(spec.template) ? spec.template : {};
  return isJsonObject(template.spec) ? template.spec : {};
}

/** Every image a workload runs, init containers first. */
export function imagesOf(object: KubeObject): string[] {
  const spec = podSpecOf(object);
  const containers = [
    ...((spec.initContainers ?? []) as JsonObject[]),
    ...((spec.containers ?? []) as JsonObject[]),
  ];
  return containers
    .map((container) => container.image)
    .filter((image): image is string => typeof image === 'string');
}

function desiredReplicas(object: KubeObject): number {
  if (object.kind === 'DaemonSet') return 1;
  const spec = isJsonObject(object.spec) ? object.spec : {};
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

function condition(
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
): JsonObject {
  const now = timestamp();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

function progressingStatus(object: KubeObject): JsonObject {
  if (object.kind === 'Pod')
    return { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] };
  const previous = statusOf(object);
  const replicas = desiredReplicas(object);
  const available = Number(previous.availableReplicas ?? 0);
  return {
    ...previous,
    observedGeneration: object.metadata.generation ?? 1,
    replicas,
    updatedReplicas: 0,
    unavailableReplicas: Math.max(0, replicas - available),
    conditions: [
      condition(
        'Available',
        available >= replicas ? 'True' : 'False',
        available >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        available >= replicas
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      ),
      condition(
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${object.metadata.name}" is progressing.`,
      ),
    ],
  };
}

/** The status a workload settles in once its rollout is decided. */
export function finalStatus(object: KubeObject, outcome: RolloutOutcome): JsonObject {
  const replicas = desiredReplicas(object);
  const generation = object.metadata.generation ?? 1;
  if (object.kind === 'Pod') return podStatus(object, outcome);
  if (!outcome.ready) {
    const why = `image "${outcome.image}" is not allowed: ${outcome.reason}`;
    return {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      unavailableReplicas: replicas,
      conditions: [
        condition(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          `Deployment does not have minimum availability: ${why}`,
        ),
        condition(
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${object.metadata.name}" has timed out progressing: ${why}`,
        ),
      ],
    };
  }
  const counts: JsonObject =
    object.kind === 'DaemonSet'
      ? {
          desiredNumberScheduled: 1,
          currentNumberScheduled: 1,
          numberReady: 1,
          numberAvailable: 1,
          updatedNumberScheduled: 1,
        }
      : {
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          currentReplicas: replicas,
        };
  return {
    observedGeneration: generation,
    ...counts,
    conditions: [
      condition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
      ),
      condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${object.metadata.name}" has successfully progressed.`,
      ),
    ],
  };
}

function podStatus(pod: KubeObject, outcome: RolloutOutcome): JsonObject {
  const containers = (podSpecOf(pod).containers ?? []) as JsonObject[];
  const ready = outcome.ready ? 'True' : 'False';
  return {
    phase: outcome.ready ? 'Running' : 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: ready },
      { type: 'ContainersReady', status: ready },
    ],
    containerStatuses: containers.map((container): JsonObject => ({
      name: container.name ?? '',
      image: container.image ?? '',
      ready: outcome.ready,
      restartCount: 0,
      state: outcome.ready
        ? { running: { startedAt: timestamp() } }
        : {
            waiting: {
              reason: 'ErrImagePull',
              message: `image "${outcome.image}" is not allowed: ${outcome.reason}`,
            },
          },
    })),
  };
}
