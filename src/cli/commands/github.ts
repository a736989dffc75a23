import { Command, Option } from 'commander';
import { githubProtection } from '../../adapters/github/protection.ts';
import { loadConfig } from '../../config/load.ts';
import { workspacePaths } from '../../workspace/paths.ts';
import { commandContext } from '../context.ts';

/** `changeproof github`: what the config repo on GitHub should be set up with. */
export function githubCommand(): Command {
  const github = new Command('github').description('connect the config repo on GitHub');
  github
    .command('protection')
    .description("print the branch protection or ruleset JSON for the config repo's main branch")
    .addOption(
      new Option('--format <format>', 'GitHub API body to print')
        .choices(['ruleset', 'branch-protection'])
        .default('ruleset'),
    )
    .action((options: { format: string }, command: Command) => {
      const context = commandContext(command);
      const config = loadConfig(workspacePaths(context.workspaceRoot()).config);
      const protection = githubProtection(config);
      const body = options.format === 'ruleset' ? protection.ruleset : protection.branchProtection;
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    });
  return github;
}
