import { Command, InvalidArgumentError } from 'commander';
import { durationMs } from '../../config/schema.ts';
import { ChangeproofError, UsageError } from '../../errors.ts';
import { runningRegistry } from '../../delivery/registry-target.ts';
import { openRegistryStorage } from '../../embedded/registry/index.ts';
import { pruneRegistry, type PruneDecision } from '../../supply-chain/lifecycle/index.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows, printValue } from '../output.ts';

/** `changeproof registry`: maintenance of the embedded OCI registry. */
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
      const result = await withWorkspace(context, async (ws) => {
        assertLocalRegistry(ws, options.dryRun === true);
        return pruneRegistry({
          storage: openRegistryStorage(ws.paths.registryDir),
          ledger: ws.ledger,
          config: ws.config,
          dryRun: options.dryRun === true,
          policy: {
            maxAgeMs: durationMs(options.maxAge),
            keep: options.keep,
            untaggedGraceMs: durationMs(options.untaggedGrace),
          },
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
          `${result.dryRun ? '' : `, freed ${result.freedBytes} bytes`}` +
          ` (${result.protectedImages} image(s) protected by production deployments)\n`,
      );
    });

  return registry;
}

/**
 * Prune edits the embedded registry's files directly, which is only safe while no other process
 * serves them; a dry run only reads.
 */
function assertLocalRegistry(ws: WorkspaceContext, dryRun: boolean): void {
  if (ws.config.adapters.registry !== 'embedded') {
    // TODO(#3): prune a connected registry through the distribution API (tag list and DELETE).
    throw new UsageError(
      "registry prune works on the embedded registry only; use your registry's lifecycle rules",
    );
  }
  const running = runningRegistry(ws);
  if (!dryRun && running?.pid && running.pid !== process.pid && isAlive(running.pid)) {
    throw new ChangeproofError(
      'REGISTRY_RUNNING',
      `the embedded registry is being served by process ${running.pid}; stop changeproof up, then prune (or pass --dry-run)`,
    );
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
