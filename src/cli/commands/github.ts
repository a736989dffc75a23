import { Command, InvalidArgumentError, Option } from 'commander';
import { githubProtection } from '../../adapters/github/protection.ts';
import { loadConfig } from '../../config/load.ts';
import { UsageError } from '../../errors.ts';
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
    .option(
      '--bypass-team-id <id>',
      'GitHub team id (the on-call team) the ruleset lets bypass on pull requests',
      teamId,
    )
    .action((options: { format: string; bypassTeamId?: number }, command: Command) => {
      const context = commandContext(command);
      if (options.bypassTeamId !== undefined && options.format !== 'ruleset')
        throw new UsageError(
          '--bypass-team-id needs --format ruleset: only rulesets have bypass actors',
        );
      const config = loadConfig(workspacePaths(context.workspaceRoot()).config);
      const protection = githubProtection(config, { bypassTeamId: options.bypassTeamId });
      const body = options.format === 'ruleset' ? protection.ruleset : protection.branchProtection;
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    });
  return github;
}

function teamId(value: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id < 1) throw new InvalidArgumentError('expected a numeric team id');
  return id;
}
