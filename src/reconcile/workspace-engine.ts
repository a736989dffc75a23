import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { KubeError } from '../adapters/kubernetes/errors.ts';
import { join, resolve } from 'node:path';
import {
  inClusterConfig,
  loadKubeconfig,
  type KubeClientConfig,
} from '../adapters/kubernetes/config.ts';
import { changeManagementFor } from '../change/index.ts';
import type { Logger } from '../log.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { startCdEngine, type CdEngine, type CdEngineOptions } from './engine.ts';
import { defaultRequiredPredicates, type RegistryClientFactory } from './image-verification.ts';
import { ledgerChangeLifecycle, type ChangeLifecycle } from './ports.ts';

/** How to reach every cluster the workspace names: sandboxes through the workspace kubeconfig. */
export function workspaceClusters(ws: WorkspaceContext): Map<string, KubeClientConfig> {
  const clusters = new Map<string, KubeClientConfig>();
  for (const [name, cluster] of Object.entries(ws.config.clusters)) {
    if (cluster.type === 'sandbox') {
      if (!existsSync(ws.paths.kubeconfig))
        throw new KubeError(
          'KUBECONFIG_INVALID',
          `sandbox ${name} is not running; start it with changeproof up`,
        );
      clusters.set(name, loadKubeconfig(ws.paths.kubeconfig, name));
    } else if (cluster.type === 'in-cluster') clusters.set(name, inClusterConfig());
    else {
      const path = cluster.path ?? process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
      clusters.set(name, loadKubeconfig(resolve(ws.paths.root, path), cluster.context));
    }
  }
  return clusters;
}

/** The change lifecycle of the workspace's change management, behind the CD plane's port. */
export function workspaceLifecycle(ws: WorkspaceContext): ChangeLifecycle {
  const changes = changeManagementFor(ws);
  const lookup = ledgerChangeLifecycle(ws.ledger);
  return {
    changeFor: lookup.changeFor,
    withinWindow: async (change, now) => {
      const record = await changes.context.changeSystem.get(change);
      if (record.type === 'emergency') return true;
      if (!record.plannedStart || !record.plannedEnd) return false;
      const time = now.getTime();
      return time >= Date.parse(record.plannedStart) && time <= Date.parse(record.plannedEnd);
    },
    onSyncSucceeded: async (change, deployment) => {
      await changes.lifecycle.onSyncSucceeded(change, {
        id: `deployment:${deployment.deployment}`,
        notes: `live state ${deployment.liveDigest} equals desired ${deployment.desiredDigest}`,
      });
    },
    onSyncFailed: async (change, failure) => {
      await changes.lifecycle.onSyncFailed(change, { id: failure.incident, notes: failure.reason });
    },
  };
}

export interface WorkspaceEngineOptions {
  ws: WorkspaceContext;
  /** Defaults to {@link workspaceClusters}; `changeproof up` passes the sandboxes it started. */
  clusters?: Map<string, KubeClientConfig>;
  registryClients?: RegistryClientFactory;
  logger: Logger;
  mode?: CdEngineOptions['mode'];
}

/**
 * The CD engine over a workspace: its environments, config repo, pipeline key (trusted to sign
 * images), control-plane key (signs verifications, under a one-minute lease per run), ledger and
 * change management.
 *
 * @example
 * const engine = await startWorkspaceCdEngine({ ws, logger });
 * await engine.verify('prod');
 */
export async function startWorkspaceCdEngine(options: WorkspaceEngineOptions): Promise<CdEngine> {
  const { ws, logger } = options;
  const log = logger.child({ component: 'cd-engine' });
  return startCdEngine({
    ledger: ws.ledger,
    environments: ws.config.environments,
    configRepo: resolve(ws.paths.root, ws.config.configRepo.path),
    branch: ws.config.configRepo.branch,
    clusters: options.clusters ?? workspaceClusters(ws),
    trust: {
      publicKeys: [await ws.broker.publicKey('pipeline')],
      requiredPredicates: defaultRequiredPredicates,
    },
    registryClients: options.registryClients,
    controlPlaneSigner: async () => {
      const lease = await ws.broker.openLease({
        holder: 'system:cd-engine',
        scopes: ['sign:control-plane'],
        ttlSeconds: 60,
      });
      return {
        signer: await ws.broker.signer(lease.id, 'control-plane'),
        release: () => ws.broker.revokeLease(lease.id),
      };
    },
    lifecycle: workspaceLifecycle(ws),
    // ServiceNow incidents in connected mode; the ledger's own otherwise.
    ...(ws.connected?.incidents ? { incidents: ws.connected.incidents } : {}),
    cacheDir: join(ws.paths.stateDir, 'cd-cache'),
    mode: options.mode,
    onError: (error, context) => log.warn({ err: error, context }, 'cd engine step failed'),
  });
}
