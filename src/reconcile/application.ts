import type { Governance } from '../config/schema.ts';
import type { KubeObject } from '../gitops/render.ts';
import type { ApplicationSettings } from './config-repo.ts';
import type { Health, SyncStatus } from './health.ts';

/** The field manager and labels every object changeproof applies carries. */
export const fieldManager = 'changeproof';
export const managedByLabel = 'app.kubernetes.io/managed-by';
export const appLabel = 'changeproof.dev/app';

/** One service in one environment, on the environment's cluster. */
export interface Application {
  /** `<env>/<service>`, as in the ledger subject `app:<env>/<service>`. */
  id: string;
  /** `<env>.<service>`, the value of the `changeproof.dev/app` label (no `/` in label values). */
  label: string;
  env: string;
  service: string;
  cluster: string;
  production: boolean;
  governance: Governance;
}

/** What the engine holds an application's live state to: an approved commit, rendered. */
export interface DesiredState {
  commit: string;
  deployment: string;
  objects: KubeObject[];
  digest: string;
  settings: ApplicationSettings;
}

/** Everything the engine knows about one application while it runs. */
export interface AppRuntime {
  app: Application;
  desired?: DesiredState;
  /** The last deployment that became healthy: where an unhealthy sync rolls back to. */
  lastHealthy?: { commit: string; deployment: string };
  /** Commits refused or rolled back: not synced again automatically. */
  abandonedCommits: Set<string>;
  /** A commit held until its change's window opens: refused once, then checked quietly. */
  heldForWindow?: string;
  syncing: boolean;
  sync: SyncStatus;
  health: Health;
  lastError?: string;
  deployments?: number;
}

/** The `changeproof.dev/app` label value of an application: `<env>.<service>`. */
export function appLabelOf(source: { env: string; service: string }): string {
  return `${source.env}.${source.service}`;
}

export function applicationOf(
  source: { env: string; service: string },
  environment: { cluster: string; production: boolean; governance: Governance },
): Application {
  return {
    id: `${source.env}/${source.service}`,
    label: appLabelOf(source),
    env: source.env,
    service: source.service,
    cluster: environment.cluster,
    production: environment.production,
    governance: environment.governance,
  };
}

/** The objects as applied: Git's objects with changeproof's ownership labels. */
export function labelled(
  objects: readonly KubeObject[],
  app: Pick<Application, 'label'>,
): KubeObject[] {
  return objects.map((object) => ({
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, [managedByLabel]: fieldManager, [appLabel]: app.label },
    },
  }));
}

export function selfHealOf(runtime: AppRuntime): boolean {
  return runtime.desired?.settings.selfHeal ?? runtime.app.governance.selfHeal;
}

// Apply order, as Argo CD's sync phases do it: namespaces and definitions first, workloads last.
const kindOrder = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Ingress',
];

export function applyOrder(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (object: KubeObject) => {
    const index = kindOrder.indexOf(object.kind);
    return index < 0 ? kindOrder.length : index;
  };
  return [...objects].sort((a, b) => rank(a) - rank(b));
}
