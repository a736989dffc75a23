import { join, resolve } from 'node:path';
import { KubeClient, type KubeClientConfig } from '../adapters/kubernetes/index.ts';
import { ChangeproofError } from '../errors.ts';
import { objectKey, type KubeObject } from '../gitops/render.ts';
import { applicationOf, labelled } from '../reconcile/application.ts';
import { checkoutCommit, headCommit, renderApp } from '../reconcile/config-repo.ts';
import { diffObject, redactedDiff, type IgnoreDifference } from '../reconcile/diff.ts';
import { workspaceClusters } from '../reconcile/workspace-engine.ts';
import type { WorkspaceContext } from '../workspace/context.ts';

/** The desired state of one application, as rendered, against its objects in the cluster now. */
export interface LiveDiff {
  /** The config commit the desired state was rendered from. */
  commit: string;
  /** One line per differing field, grouped under each object's key; Secret values redacted. */
  lines: string[];
}

/** Computes the live diff of `<env>/<service>` at `commit` (main's head when none is given). */
export type LiveDiffSource = (env: string, service: string, commit?: string) => Promise<LiveDiff>;

export interface WorkspaceLiveDiff {
  diff: LiveDiffSource;
  close(): void;
}

/**
 * The live diff over a workspace's config repo and clusters, with the reconciler's own rendering,
 * comparison and redaction, so the page shows exactly what the drift detector would call drift.
 * Cluster connections are opened on first use: the sandboxes' kubeconfig appears only once
 * `changeproof up` has started them.
 */
export function workspaceLiveDiff(ws: WorkspaceContext): WorkspaceLiveDiff {
  const repo = resolve(ws.paths.root, ws.config.configRepo.path);
  const cacheDir = join(ws.paths.stateDir, 'cd-cache');
  const clients = new Map<string, KubeClient>();
  let configs: Map<string, KubeClientConfig> | undefined;
  const clientOf = (cluster: string) => {
    configs ??= workspaceClusters(ws);
    const config = configs.get(cluster);
    if (!config) throw liveDiffError(`cluster ${cluster} has no connection configured`);
    let client = clients.get(cluster);
    if (!client) clients.set(cluster, (client = new KubeClient(config)));
    return client;
  };

  const diff: LiveDiffSource = async (env, service, commit) => {
    const environment = ws.config.environments.find((e) => e.name === env);
    if (!environment) throw liveDiffError(`no environment ${env} in changeproof.yaml`);
    const app = applicationOf({ env, service }, environment);
    const at = commit ?? (await headCommit(repo, ws.config.configRepo.branch));
    const rendered = await renderApp(await checkoutCommit(repo, at, cacheDir), app);
    const rules = rendered.settings.ignoreDifferences ?? [];
    const client = clientOf(app.cluster);
    const lines: string[] = [];
    for (const desired of labelled(rendered.objects, app))
      lines.push(...objectLines(desired, await client.get(refOf(desired)), rules));
    return { commit: at, lines };
  };
  return { diff, close: () => clients.forEach((client) => client.close()) };
}

/** The diff lines of one object: its differing fields, or why there are none to show. */
export function objectLines(
  desired: KubeObject,
  live: KubeObject | undefined,
  rules: readonly IgnoreDifference[],
): string[] {
  const key = objectKey(desired);
  if (!live) return [`${key}`, '  missing from the cluster'];
  const differences = diffObject(desired, live, rules);
  if (differences.length === 0) return [`${key}`, '  live equals desired'];
  return redactedDiff(live, differences).split('\n');
}

function refOf(object: KubeObject) {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

function liveDiffError(message: string): ChangeproofError<'LIVE_DIFF_UNAVAILABLE'> {
  return new ChangeproofError('LIVE_DIFF_UNAVAILABLE', message, { category: 'not-found' });
}
