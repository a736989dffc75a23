import type { Command } from 'commander';
import { createLogger, type Logger } from '../log.ts';
import { openWorkspace, type WorkspaceContext } from '../workspace/context.ts';
import { findWorkspace } from '../workspace/find.ts';
import { parseOutputFormat, type OutputFormat } from './output.ts';

/** The options every command accepts, declared once on the root program. */
export interface GlobalOptions {
  workspace?: string;
  output?: string;
  logLevel?: string;
  database?: string;
}

export interface CommandContext {
  output: OutputFormat;
  logger: Logger;
  workspaceRoot(): string;
  /** Opens the workspace; the caller closes it. */
  openWorkspace(): Promise<WorkspaceContext>;
}

export function commandContext(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const logger = createLogger({ level: options.logLevel });
  const workspaceRoot = () =>
    findWorkspace({
      flag: options.workspace,
      env: process.env.CHANGEPROOF_WORKSPACE,
      cwd: process.cwd(),
    });
  return {
    // Parsed when read: `audit export -o <file>` reuses -o for its destination.
    get output() {
      return parseOutputFormat(options.output);
    },
    logger,
    workspaceRoot,
    // --database, else CHANGEPROOF_DATABASE_URL (how the Helm chart passes it), else the config.
    openWorkspace: () =>
      openWorkspace(workspaceRoot(), {
        database: options.database ?? (process.env.CHANGEPROOF_DATABASE_URL || undefined),
      }),
  };
}

/** Opens the workspace, runs `work`, and always closes it. */
export async function withWorkspace<T>(
  context: CommandContext,
  work: (workspace: WorkspaceContext) => Promise<T>,
): Promise<T> {
  const workspace = await context.openWorkspace();
  try {
    return await work(workspace);
  } finally {
    await workspace.close();
  }
}
