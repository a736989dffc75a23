import { Command } from 'commander';
import { changeManagementFor } from '../../change/index.ts';
import { rollbackAs } from '../../reconcile/workspace-rollback.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printValue } from '../output.ts';

/** `changeproof rollback <service> --env <env>`: a revert proposal, approved like any change. */
export function rollbackCommand(): Command {
  return new Command('rollback')
    .description('open a proposal that restores an earlier healthy deployment of a service')
    .argument('<service>', 'the service to roll back')
    .requiredOption('--env <env>', 'the environment')
    .option('--to <deployment>', 'deployment id (<env>/<service>/<n>); default: the one before')
    .option('--emergency', 'take the emergency path (one on-call approval, review later)')
    .option('--reason <text>', 'why', 'rollback requested')
    .option('--token <token>', 'your changeproof token (default: $CHANGEPROOF_TOKEN)')
    .action(async (service: string, options, command: Command) => {
      const context = commandContext(command);
      const proposal = await withWorkspace(context, async (ws) => {
        const actor = await changeManagementFor(ws).identity.authenticate(
          options.token ?? process.env.CHANGEPROOF_TOKEN,
        );
        return rollbackAs(ws, actor, {
          env: options.env,
          service,
          to: options.to,
          reason: options.reason,
          emergency: options.emergency === true,
        });
      });
      printValue(
        { proposal: proposal.id, branch: proposal.branch, title: proposal.title },
        context.output === 'table' ? 'yaml' : context.output,
      );
    });
}
