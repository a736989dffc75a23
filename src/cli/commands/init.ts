import { Command, InvalidArgumentError } from 'commander';
import { initWorkspace } from '../../workspace/init.ts';
import { commandContext } from '../context.ts';
import { printValue } from '../output.ts';

export function initCommand(): Command {
  return new Command('init')
    .description('create a local workspace: config, config repo, keys and database')
    .argument('[dir]', 'folder to create the workspace in', '.')
    .option('--name <name>', 'workspace name', 'local')
    .option('--port <port>', 'control-plane port (default: a free port)', port)
    .option('--registry-port <port>', 'embedded registry port (default: a free port)', port)
    .action(async (dir: string, options, command: Command) => {
      const context = commandContext(command);
      const database = command.optsWithGlobals<{ database?: string }>().database;
      const paths = await initWorkspace({
        dir,
        name: options.name,
        serverPort: options.port,
        registryPort: options.registryPort,
        database,
      });
      context.logger.info({ workspace: paths.root }, 'workspace created');
      const summary = {
        workspace: paths.root,
        config: paths.config,
        configRepo: paths.configRepo,
        keys: paths.keysDir,
      };
      if (context.output === 'table') process.stdout.write(`workspace created at ${paths.root}\n`);
      else printValue(summary, context.output);
    });
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535)
    throw new InvalidArgumentError('expected a port 0-65535');
  return number;
}
