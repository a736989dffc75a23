import type { ChangeproofConfig, ServiceConfig } from '../config/schema.ts';
import { defaultService } from '../config/schema.ts';
import { git } from '../gitops/git.ts';

/**
 * Services are discovered from the config repo: every `apps/<service>/` folder on the branch is a
 * service, so onboarding one is a single commit. changeproof.yaml adds per-service settings.
 */
export async function discoverServices(
  config: ChangeproofConfig,
  configRepo: string,
): Promise<{ name: string; settings: ServiceConfig; configured: boolean }[]> {
  const listing = await git(['ls-tree', '-d', '--name-only', `${config.configRepo.branch}:apps`], {
    cwd: configRepo,
  }).catch(() => '');
  const names = listing.split('\n').filter(Boolean).sort();
  return names.map((name) => ({
    name,
    settings: config.services[name] ?? defaultService,
    configured: name in config.services,
  }));
}
