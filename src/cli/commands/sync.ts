import { Command } from 'commander';
import { ChangeproofError } from '../../errors.ts';
import type { ApplicationView } from '../../reconcile/engine.ts';
import { startWorkspaceCdEngine } from '../../reconcile/workspace-engine.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows, type OutputFormat } from '../output.ts';

export class SyncFailed extends ChangeproofError<'SYNC_FAILED'> {}

/** `changeproof sync`: reconcile once now (the engine under `up` does this continuously). */
export function syncCommand(): Command {
  return new Command('sync')
    .description('reconcile the applications with the config repo main once, now')
    .argument('[service]', 'only this service')
    .option('--env <env>', 'only this environment')
    .action(async (service: string | undefined, options: { env?: string }, command: Command) => {
      const context = commandContext(command);
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
    });
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
