import { Command } from 'commander';
import { startWorkspaceCdEngine } from '../../reconcile/workspace-engine.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printApplications, select } from './sync.ts';

/** `changeproof apps`: every application with its sync and health status, as Argo CD shows it. */
export function appsCommand(): Command {
  return new Command('apps')
    .description('list applications (service × environment) with sync and health status')
    .option('--env <env>', 'only this environment')
    .action(async (options: { env?: string }, command: Command) => {
      const context = commandContext(command);
      const views = await withWorkspace(context, async (ws) => {
        const engine = await startWorkspaceCdEngine({
          ws,
          logger: context.logger,
          mode: 'observe',
        });
        try {
          return engine.applications();
        } finally {
          await engine.close();
        }
      });
      printApplications(select(views, undefined, options.env), context.output);
    });
}
