import type { KubeObject } from '../gitops/render.ts';

/** Health as Argo CD users know it. */
export type HealthStatus =
  'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
/** Sync status as Argo CD users know it. */
export type SyncStatus = 'Synced' | 'OutOfSync' | 'Unknown';

export interface Health {
  status: HealthStatus;
  message?: string;
}

// Argo CD's order: the application is as unhealthy as its least healthy resource.
const severity: HealthStatus[] = [
  'Healthy',
  'Suspended',
  'Progressing',
  'Missing',
  'Degraded',
  'Unknown',
];

export function worstHealth(healths: readonly Health[]): Health {
  let worst: Health = { status: 'Healthy' };
  for (const health of healths) {
    if (severity.indexOf(health.status) > severity.indexOf(worst.status)) worst = health;
  }
  return worst;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

type Status = Record<string, unknown> & { conditions?: Condition[] };

/** The health of one live object (undefined: Missing), with Argo CD's rules for common kinds. */
export function healthOf(object: KubeObject | undefined): Health {
  if (!object) return { status: 'Missing' };
  const status = (object.status ?? {}) as Status;
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  switch (object.kind) {
    case 'Deployment':
      return deploymentHealth(object, spec, status);
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
      return rolloutHealth(object, status);
    case 'Pod':
      return podHealth(status);
    case 'PersistentVolumeClaim':
      return status.phase === 'Bound'
        ? { status: 'Healthy' }
        : { status: 'Progressing', message: `claim is ${String(status.phase ?? 'pending')}` };
    case 'Job':
      return jobHealth(status);
    default:
      return { status: 'Healthy' };
  }
}

function deploymentHealth(
  object: KubeObject,
  spec: Record<string, unknown>,
  status: Status,
): Health {
  if (spec.paused === true) return { status: 'Suspended', message: 'deployment is paused' };
  const generation = Number(object.metadata.generation ?? 0);
  if (Number(status.observedGeneration ?? 0) < generation)
    return { status: 'Progressing', message: 'waiting for the rollout to be observed' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { status: 'Degraded', message: progressing.message ?? 'progress deadline exceeded' };
  const replicas = Number(spec.replicas ?? 1);
  if (Number(status.updatedReplicas ?? 0) < replicas)
    return { status: 'Progressing', message: 'new replicas are being rolled out' };
  if (Number(status.availableReplicas ?? 0) < replicas)
    return { status: 'Progressing', message: 'waiting for replicas to become available' };
  return { status: 'Healthy' };
}

function rolloutHealth(object: KubeObject, status: Status): Health {
  const generation = Number(object.metadata.generation ?? 0);
  if (Number(status.observedGeneration ?? 0) < generation)
    return { status: 'Progressing', message: 'waiting for the rollout to be observed' };
  const ready = Number(status.readyReplicas ?? status.numberReady ?? 0);
  const wanted = Number(status.replicas ?? status.desiredNumberScheduled ?? 0);
  return ready >= wanted
    ? { status: 'Healthy' }
    : { status: 'Progressing', message: `${ready} of ${wanted} ready` };
}

function podHealth(status: Status): Health {
  if (status.phase === 'Running' || status.phase === 'Succeeded') return { status: 'Healthy' };
  if (status.phase === 'Failed') return { status: 'Degraded', message: 'pod failed' };
  const waiting = (status.containerStatuses as { state?: { waiting?: Condition } }[] | undefined)
    ?.map((container) => container.state?.waiting)
    .find((state) => state?.reason === 'ErrImagePull' || state?.reason === 'ImagePullBackOff');
  return waiting
    ? { status: 'Degraded', message: waiting.message ?? waiting.reason }
    : { status: 'Progressing', message: 'pod is pending' };
}

function jobHealth(status: Status): Health {
  const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { status: 'Degraded', message: failed.message ?? 'job failed' };
  const complete = status.conditions?.find((c) => c.type === 'Complete' && c.status === 'True');
  return complete ? { status: 'Healthy' } : { status: 'Progressing', message: 'job is running' };
}
