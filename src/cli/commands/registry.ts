import { Command, InvalidArgumentError } from 'commander';
import { durationMs } from '../../config/schema.ts';
import { registryClientFor } from '../../delivery/registry-access.ts';
import { registryTargetOf, runningRegistry } from '../../delivery/registry-target.ts';
import { openRegistryStorage } from '../../embedded/registry/index.ts';
import {
  pruneRegistry,
  pruneRemoteRegistry,
  type PruneDecision,
  type PrunePolicy,
  type PruneResult,
} from '../../supply-chain/lifecycle/index.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows, printValue } from '../output.ts';

/** `changeproof registry`: maintenance of the OCI registry. */
export function registryCommand(): Command {
  const registry = new Command('registry').description('maintain the embedded OCI registry');

  registry
    .command('prune')
    .description(
      'expire untagged and old images, never one a production deployment inside the evidence retention references',
    )
    .option('--dry-run', 'list what would be deleted and delete nothing')
    .option('--max-age <duration>', 'tagged images older than this expire', duration, '90d')
    .option('--keep <n>', 'the newest tagged images per repository that always stay', count, 10)
    .option('--untagged-grace <duration>', 'untagged images younger than this stay', duration, '1h')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const policy = {
        maxAgeMs: durationMs(options.maxAge),
        keep: options.keep,
        untaggedGraceMs: durationMs(options.untaggedGrace),
      };
      const dryRun = options.dryRun === true;
      let overHttp = false;
      const result = await withWorkspace(context, async (ws) => {
        overHttp = servedElsewhere(ws);
        if (overHttp) return pruneOverHttp(ws, policy, dryRun);
        return pruneRegistry({
          storage: openRegistryStorage(ws.paths.registryDir),
          ledger: ws.ledger,
          config: ws.config,
          dryRun,
          policy,
        });
      });
      if (context.output !== 'table') return printValue(result, context.output);
      printRows<PruneDecision>(
        result.decisions,
        [
          {
            header: 'action',
            value: (d) => (result.dryRun && d.action === 'delete' ? 'would delete' : d.action),
          },
          { header: 'repository', value: (d) => d.repository, max: 32 },
          { header: 'digest', value: (d) => d.digest.slice(0, 19) },
          { header: 'tags', value: (d) => d.tags.join(','), max: 30 },
          { header: 'pushed', value: (d) => d.pushedAt },
          { header: 'reason', value: (d) => d.reason, max: 60 },
        ],
        'table',
      );
      process.stdout.write(
        `${result.dryRun ? 'would delete' : 'deleted'} ${result.deleted}, kept ${result.kept}` +
          `${result.dryRun ? '' : overHttp ? ', blobs go at the registry garbage collection' : `, freed ${result.freedBytes} bytes`}` +
          ` (${result.protectedImages} image(s) protected by production deployments)\n`,
      );
    });

  return registry;
}

/**
 * Whether prune must go through the distribution API: always for a connected registry, and for
 * the embedded one while another process (`changeproof up`) serves it, since editing its files
 * under a running server is unsafe. Otherwise prune works on the embedded storage directly.
 */
function servedElsewhere(ws: WorkspaceContext): boolean {
  if (ws.config.adapters.registry !== 'embedded') return true;
  const running = runningRegistry(ws);
  return Boolean(running?.pid && running.pid !== process.pid && isAlive(running.pid));
}

/** Prunes through the distribution API, with credentials read through a short broker lease. */
async function pruneOverHttp(
  ws: WorkspaceContext,
  policy: PrunePolicy,
  dryRun: boolean,
): Promise<PruneResult> {
  const target = registryTargetOf(ws);
  const lease = await ws.broker.openLease({
    holder: 'system:registry-prune',
    scopes: ['read:registry/'],
    ttlSeconds: 900,
  });
  try {
    const client = await registryClientFor(target, ws.broker, lease.id);
    return await pruneRemoteRegistry({
      client,
      ledger: ws.ledger,
      config: ws.config,
      policy,
      dryRun,
    });
  } finally {
    await ws.broker.revokeLease(lease.id);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function duration(value: string): string {
  if (!/^\d+(s|m|h|d)$/.test(value))
    throw new InvalidArgumentError('use a number and a unit: 30s, 10m, 72h, 90d');
  return value;
}

function count(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0)
    throw new InvalidArgumentError('expected a whole number from 0');
  return number;
}
