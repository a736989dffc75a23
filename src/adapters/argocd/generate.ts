import type { ArgocdSettings } from '../../config/adapter-settings.ts';
import type { EnvironmentConfig } from '../../config/schema.ts';
import { appLabel, fieldManager, managedByLabel } from '../../reconcile/application.ts';

/** One service in one environment, as the config repo lays it out (apps/<service>/overlays/<env>). */
export interface AppRef {
  service: string;
  env: string;
}

type Manifest = Record<string, unknown>;

/** The (service, env) pairs found in a listing of the config repo's files. */
export function appsFromPaths(paths: string[]): AppRef[] {
  const seen = new Map<string, AppRef>();
  for (const path of paths) {
    const match = /^apps\/([^/]+)\/overlays\/([^/]+)\/kustomization\.ya?ml$/.exec(path);
    if (match) seen.set(`${match[1]}/${match[2]}`, { service: match[1]!, env: match[2]! });
  }
  return [...seen.values()].sort((a, b) =>
    `${a.env}/${a.service}`.localeCompare(`${b.env}/${b.service}`),
  );
}

/**
 * Argo CD manifests for the config repo: one AppProject per environment restricting sources to
 * the config repo and destinations to the service namespaces, one Application per service and
 * environment (automated with selfHeal and prune where the environment's governance says so,
 * always in production), and the root Application of the app-of-apps.
 */
export function appOfApps(
  settings: ArgocdSettings,
  environments: EnvironmentConfig[],
  apps: AppRef[],
): Manifest[] {
  const projects = environments.map((env) =>
    appProject(
      settings,
      env,
      apps.filter((a) => a.env === env.name),
    ),
  );
  const applications = apps.flatMap((app) => {
    const env = environments.find((e) => e.name === app.env);
    return env ? [application(settings, env, app)] : [];
  });
  return [...projects, root(settings), ...applications];
}

function appProject(settings: ArgocdSettings, env: EnvironmentConfig, apps: AppRef[]): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: `${settings.project}-${env.name}`, namespace: settings.namespace },
    spec: {
      description: `changeproof-governed applications in ${env.name}`,
      sourceRepos: [settings.repoUrl],
      destinations: apps.map((app) => ({
        server: 'https://kubernetes.default.svc',
        namespace: app.service,
      })),
      // Cluster-scoped kinds stay with the platform team, not with application manifests.
      clusterResourceWhitelist: [],
      namespaceResourceBlacklist: [
        { group: '', kind: 'ResourceQuota' },
        { group: '', kind: 'LimitRange' },
      ],
    },
  };
}

function application(settings: ArgocdSettings, env: EnvironmentConfig, app: AppRef): Manifest {
  const selfHeal = env.production || env.governance.selfHeal;
  const prune = env.production || env.governance.prune;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: `${app.service}-${app.env}`,
      namespace: settings.namespace,
      labels: { 'changeproof.dev/service': app.service, 'changeproof.dev/env': app.env },
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: `${settings.project}-${env.name}`,
      source: {
        repoURL: settings.repoUrl,
        targetRevision: settings.targetRevision,
        path: `apps/${app.service}/overlays/${app.env}`,
        kustomize: ownershipLabels(app.env, app.service),
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: app.service },
      syncPolicy: {
        automated: { selfHeal, prune },
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
      },
      revisionHistoryLimit: 10,
    },
  };
}

/**
 * The labels changeproof's own verification finds an application's live objects by (the same
 * ones the built-in engine applies), added by Argo CD's kustomize to metadata only: selectors
 * stay as Git has them. Without them, verification would find nothing Argo CD applied.
 */
function ownershipLabels(env: string, service: string) {
  return {
    commonLabels: { [managedByLabel]: fieldManager, [appLabel]: `${env}.${service}` },
    labelWithoutSelector: true,
  };
}

function root(settings: ArgocdSettings): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: `${settings.project}-root`, namespace: settings.namespace },
    spec: {
      project: 'default',
      source: {
        repoURL: settings.repoUrl,
        targetRevision: settings.targetRevision,
        path: 'argocd/apps',
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: settings.namespace },
      syncPolicy: { automated: { selfHeal: true, prune: true } },
    },
  };
}

/** The ApplicationSet alternative: a Git directory generator over `apps/<service>/overlays/<env>`. */
export function applicationSet(settings: ArgocdSettings): Manifest {
  // One template for every environment: selfHeal and prune on, as production needs.
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: settings.project, namespace: settings.namespace },
    spec: {
      goTemplate: true,
      goTemplateOptions: ['missingkey=error'],
      generators: [
        {
          git: {
            repoURL: settings.repoUrl,
            revision: settings.targetRevision,
            directories: [{ path: 'apps/*/overlays/*' }],
          },
        },
      ],
      template: {
        metadata: {
          name: '{{index .path.segments 1}}-{{.path.basename}}',
          labels: {
            'changeproof.dev/service': '{{index .path.segments 1}}',
            'changeproof.dev/env': '{{.path.basename}}',
          },
        },
        spec: {
          project: `${settings.project}-{{.path.basename}}`,
          source: {
            repoURL: settings.repoUrl,
            targetRevision: settings.targetRevision,
            path: '{{.path.path}}',
            kustomize: ownershipLabels('{{.path.basename}}', '{{index .path.segments 1}}'),
          },
          destination: {
            server: 'https://kubernetes.default.svc',
            namespace: '{{index .path.segments 1}}',
          },
          syncPolicy: {
            automated: { selfHeal: true, prune: true },
            syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
          },
        },
      },
    },
  };
}
