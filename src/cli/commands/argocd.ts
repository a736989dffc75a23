import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { appOfApps, applicationSet, appsFromPaths } from '../../adapters/argocd/generate.ts';
import { loadConfig } from '../../config/load.ts';
import { UsageError } from '../../errors.ts';
import { git } from '../../gitops/git.ts';
import { workspacePaths } from '../../workspace/paths.ts';
import { commandContext } from '../context.ts';

/** `changeproof argocd`: Argo CD as the CD engine, set up from the config repo. */
export function argocdCommand(): Command {
  const argocd = new Command('argocd').description('use Argo CD as the CD engine');
  argocd
    .command('generate')
    .description('write the app-of-apps, the AppProjects and the ApplicationSet alternative')
    .option('--out <dir>', 'write one file per document set here instead of printing them')
    .action(async (options: { out?: string }, command: Command) => {
      const context = commandContext(command);
      const paths = workspacePaths(context.workspaceRoot());
      const config = loadConfig(paths.config);
      const settings = config.adapters.argocd;
      if (!settings)
        throw new UsageError('add adapters.argocd (repoUrl at least) to changeproof.yaml first');

      // The applications are the overlays on main: what Argo CD would find in the repo.
      const files = await git(['ls-tree', '-r', '--name-only', config.configRepo.branch], {
        cwd: resolve(paths.root, config.configRepo.path),
      });
      const apps = appsFromPaths(files.split('\n').filter(Boolean));
      const sets = {
        'app-of-apps.yaml': appOfApps(settings, config.environments, apps),
        'applicationset.yaml': [applicationSet(settings)],
      };
      if (!options.out) {
        process.stdout.write(multiDocument(sets['app-of-apps.yaml']));
        return;
      }
      mkdirSync(options.out, { recursive: true });
      for (const [file, documents] of Object.entries(sets)) {
        writeFileSync(join(options.out, file), multiDocument(documents));
        process.stdout.write(`${join(options.out, file)}\n`);
      }
    });
  return argocd;
}

function multiDocument(documents: unknown[]): string {
  return documents.map((d) => `---\n${stringify(d, { lineWidth: 100 })}`).join('');
}
