import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { runWhileLeading } from '../../adapters/kubernetes-lease/leader.ts';
import { KubeClient } from '../../adapters/kubernetes/client.ts';
import { inClusterConfig } from '../../adapters/kubernetes/config.ts';
import { ChangeproofError, UsageError } from '../../errors.ts';
import type { ApplicationView } from '../../reconcile/engine.ts';
import { startWorkspaceCdEngine, workspaceClusters } from '../../reconcile/workspace-engine.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import { commandContext, withWorkspace, type CommandContext } from '../context.ts';
import { printRows, type OutputFormat } from '../output.ts';
import { waitForStopSignal } from './up.ts';

interface WatchOptions {
  watch?: boolean;
  leaderElect?: boolean;
  leaseName: string;
  leaseNamespace?: string;
  leaseDuration: number;
  leaseCluster?: string;
}

export class SyncFailed extends ChangeproofError<'SYNC_FAILED'> {}

/** `changeproof sync`: reconcile once now (the engine under `up` does this continuously). */
export function syncCommand(): Command {
  return new Command('sync')
    .description('reconcile the applications with the config repo main once, now')
    .argument('[service]', 'only this service')
    .option('--env <env>', 'only this environment')
    .option('--watch', 'keep reconciling until stopped (the reconciler Deployment runs this)')
    .option('--leader-elect', 'with --watch: reconcile only while holding the Lease')
    .option(
      '--lease-name <name>',
      'the coordination.k8s.io Lease to hold',
      'changeproof-reconciler',
    )
    .option('--lease-namespace <ns>', 'its namespace (default: $POD_NAMESPACE, then default)')
    .option('--lease-duration <seconds>', 'how long a silent leader keeps the Lease', seconds, 15)
    .option('--lease-cluster <name>', 'the cluster holding the Lease (default: in-cluster)')
    .action(
      async (
        service: string | undefined,
        options: WatchOptions & { env?: string },
        command: Command,
      ) => {
        const context = commandContext(command);
        if (options.leaderElect && !options.watch)
          throw new UsageError('--leader-elect needs --watch');
        if (options.watch) return watch(context, options);
        const views = await withWorkspace(context, async (ws) => {
          const engine = await startWorkspaceCdEngine({ ws, logger: context.logger });
          try {
            return engine.applications();
          } finally {
            await engine.close();
          }
        });
        const selected = select(views, service, options.env);
        printApplications(selected, context.output);
        const failed = selected.filter((view) => view.lastError || view.health !== 'Healthy');
        if (failed.length > 0) {
          throw new SyncFailed(
            'SYNC_FAILED',
            `${failed.map((view) => view.app).join(', ')} not healthy; see changeproof ledger list --kind sync.refused`,
          );
        }
      },
    );
}

export function select(
  views: ApplicationView[],
  service: string | undefined,
  env: string | undefined,
): ApplicationView[] {
  return views.filter(
    (view) =>
      (!env || view.app.startsWith(`${env}/`)) && (!service || view.app.endsWith(`/${service}`)),
  );
}

export function printApplications(views: ApplicationView[], output: OutputFormat): void {
  printRows(
    views,
    [
      { header: 'app', value: (v) => v.app },
      { header: 'cluster', value: (v) => v.cluster },
      { header: 'sync', value: (v) => v.sync },
      { header: 'health', value: (v) => v.health },
      { header: 'deployment', value: (v) => v.deployment },
      { header: 'commit', value: (v) => v.commit?.slice(0, 12) },
      { header: 'error', value: (v) => v.lastError, max: 60 },
    ],
    output,
  );
}

function seconds(value: string): number {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected whole seconds');
  return n;
}

/** Reconciles until SIGTERM; with leader election, only while this replica holds the Lease. */
async function watch(context: CommandContext, options: WatchOptions): Promise<void> {
  await withWorkspace(context, async (ws) => {
    const start = () => startWorkspaceCdEngine({ ws, logger: context.logger });
    if (!options.leaderElect) {
      const engine = await start();
      await waitForStopSignal();
      return engine.close();
    }
    const identity = process.env.POD_NAME || `${hostname()}-${process.pid}`;
    const client = new KubeClient(leaseClusterOf(ws, options.leaseCluster));
    const leader = runWhileLeading(
      {
        client,
        name: options.leaseName,
        namespace: options.leaseNamespace ?? (process.env.POD_NAMESPACE || 'default'),
        identity,
        leaseDurationSeconds: options.leaseDuration,
      },
      async () => {
        context.logger.info({ identity, lease: options.leaseName }, 'leading: reconciling');
        return start();
      },
      (error) => context.logger.error({ err: error }, 'cd engine did not start'),
    );
    await waitForStopSignal();
    await leader.stop();
    client.close();
  });
}

function leaseClusterOf(ws: WorkspaceContext, name: string | undefined) {
  if (!name) return inClusterConfig();
  const cluster = workspaceClusters(ws).get(name);
  if (!cluster)
    throw new UsageError(`--lease-cluster ${name} is not a cluster in changeproof.yaml`);
  return cluster;
}
