import type { Command } from 'commander';
import { changeManagementFor, type ChangeManagement } from '../../change/index.ts';
import type { Actor } from '../../domain/identity.ts';
import { commandContext, withWorkspace, type CommandContext } from '../context.ts';

/** Adds `--token`, read by {@link withChanges}; CHANGEPROOF_TOKEN is the fallback. */
export function tokenOption(command: Command): Command {
  return command.option('--token <token>', 'your changeproof token (default: $CHANGEPROOF_TOKEN)');
}

/**
 * Opens the workspace's change management and authenticates the caller through the same token
 * check as the HTTP API, so roles are enforced identically on the command line.
 */
export async function withChanges<T>(
  command: Command,
  work: (changes: ChangeManagement, actor: Actor, context: CommandContext) => Promise<T>,
): Promise<T> {
  const context = commandContext(command);
  const token = command.opts<{ token?: string }>().token ?? process.env.CHANGEPROOF_TOKEN;
  return withWorkspace(context, async (ws) => {
    const changes = changeManagementFor(ws);
    const actor = await changes.identity.authenticate(token);
    return work(changes, actor, context);
  });
}
