import { describe, expect, it } from 'vitest';
import { applicationSet, appOfApps, appsFromPaths } from '../../../src/adapters/argocd/generate.ts';
import { parseConfig } from '../../../src/config/load.ts';

const config = parseConfig(`apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments:
  - { name: dev, order: 0, cluster: c, governance: { selfHeal: false, prune: false } }
  - { name: prod, order: 1, cluster: c, production: true, governance: { selfHeal: false } }
clusters: { c: { type: in-cluster } }
adapters: { argocd: { repoUrl: https://github.com/acme/config.git } }
`);
const settings = config.adapters.argocd!;
const apps = appsFromPaths([
  'apps/payments/base/kustomization.yaml',
  'apps/payments/overlays/dev/kustomization.yaml',
  'apps/payments/overlays/prod/kustomization.yaml',
  'apps/web/overlays/prod/kustomization.yaml',
  'README.md',
]);

describe('Argo CD generation', () => {
  it('finds one application per service and environment in the config repo layout', () => {
    expect(apps).toEqual([
      { service: 'payments', env: 'dev' },
      { service: 'payments', env: 'prod' },
      { service: 'web', env: 'prod' },
    ]);
  });

  it('turns selfHeal and prune on in production even when governance says otherwise', () => {
    const manifests = appOfApps(settings, config.environments, apps) as {
      kind: string;
      metadata: { name: string };
      spec: { syncPolicy: { automated: unknown }; source: unknown };
    }[];
    const app = (name: string) =>
      manifests.find((m) => m.kind === 'Application' && m.metadata.name === name)!;

    expect(app('payments-prod').spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
    expect(app('payments-dev').spec.syncPolicy.automated).toEqual({
      selfHeal: false,
      prune: false,
    });
    expect(app('payments-prod').spec.source).toEqual({
      repoURL: 'https://github.com/acme/config.git',
      targetRevision: 'main',
      path: 'apps/payments/overlays/prod',
      // Argo CD labels what it applies as changeproof's verification looks for it.
      kustomize: {
        commonLabels: {
          'app.kubernetes.io/managed-by': 'changeproof',
          'changeproof.dev/app': 'prod.payments',
        },
        labelWithoutSelector: true,
      },
    });
    expect(app('changeproof-root')).toBeDefined();
  });

  it('restricts each project to the config repo and its services namespaces', () => {
    const project = appOfApps(settings, config.environments, apps).find(
      (m) =>
        m.kind === 'AppProject' && (m.metadata as { name: string }).name === 'changeproof-prod',
    ) as { spec: Record<string, unknown> };
    expect(project.spec.sourceRepos).toEqual(['https://github.com/acme/config.git']);
    expect(project.spec.destinations).toEqual([
      { server: 'https://kubernetes.default.svc', namespace: 'payments' },
      { server: 'https://kubernetes.default.svc', namespace: 'web' },
    ]);
    expect(project.spec.clusterResourceWhitelist).toEqual([]);
  });

  it('offers an ApplicationSet with a Git directory generator over apps/*/overlays/*', () => {
    const set = applicationSet(settings) as { spec: { generators: unknown[] } };
    expect(set.spec.generators).toEqual([
      {
        git: {
          repoURL: 'https://github.com/acme/config.git',
          revision: 'main',
          directories: [{ path: 'apps/*/overlays/*' }],
        },
      },
    ]);
  });
});
