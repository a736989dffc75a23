import { Command, CommanderError } from 'commander';
import { messageOf } from '../errors.ts';
import { auditCommand } from './commands/audit.ts';
import { changeCommand } from './commands/change.ts';
import { admissionCommand } from './commands/admission.ts';
import { appsCommand } from './commands/apps.ts';
import { argocdCommand } from './commands/argocd.ts';
import { deliverCommand } from './commands/deliver.ts';
import { demoCommand } from './commands/demo.ts';
import { githubCommand } from './commands/github.ts';
import { initCommand } from './commands/init.ts';
import { ledgerCommand } from './commands/ledger.ts';
import { metricsCommand } from './commands/metrics.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { serveCommand } from './commands/serve.ts';
import { syncCommand } from './commands/sync.ts';
import { proposalCommand } from './commands/proposal.ts';
import { registryCommand } from './commands/registry.ts';
import { tokenCommand } from './commands/token.ts';
import { upCommand } from './commands/up.ts';
import { verifyCommand } from './commands/verify.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';
import { listFormat, outputFormats } from './output.ts';

/** The changeproof command line: parsing and output here, the work in the modules it calls. */
export function buildProgram(): Command {
  const program = new Command('changeproof')
    .description('governed GitOps delivery with a tamper-evident evidence ledger')
    .version('0.1.0')
    .option(
      '-w, --workspace <dir>',
      'workspace folder (default: $CHANGEPROOF_WORKSPACE, then . and its parents)',
    )
    // Not a choices() option: `audit export -o <file>.zip` takes a path here, and every command
    // checks its format itself (parseOutputFormat, listFormat) with a one-line usage error.
    .option(
      '-o, --output <format>',
      `output format of read commands (${outputFormats.join(', ')}; csv for audit and metrics lists)`,
    )
    .option('--log-level <level>', 'log level for the structured logs on stderr (default: info)')
    .option(
      '--database <url>',
      'database URL (sqlite:<file> or postgres://…), overriding changeproof.yaml',
    )
    .showHelpAfterError('(run with --help for usage)');
  for (const command of [
    initCommand(),
    upCommand(),
    serveCommand(),
    demoCommand(),
    ledgerCommand(),
    proposalCommand(),
    changeCommand(),
    tokenCommand(),
    auditCommand(),
    metricsCommand(),
    syncCommand(),
    appsCommand(),
    verifyCommand(),
    rollbackCommand(),
    admissionCommand(),
    githubCommand(),
    argocdCommand(),
    deliverCommand(),
    registryCommand(),
  ]) {
    program.addCommand(command);
  }
  // Check -o before any work starts, as choices() would; only `audit export` takes a file there.
  program.hook('preAction', (_program, action) => {
    const isExport = action.name() === 'export' && action.parent?.name() === 'audit';
    if (!isExport) listFormat(program.opts<{ output?: string }>().output);
  });
  overrideExits(program);
  return program;
}

/** Parsing errors anywhere in the tree must reach run() so they exit 2, not commander's 1. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other parsing problem is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    process.stderr.write(`changeproof: ${messageOf(error)}\n`);
    return exitCodeFor(error);
  }
}

process.exitCode = await run(process.argv);
