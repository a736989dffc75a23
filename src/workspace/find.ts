import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { CONFIG_FILE } from './paths.ts';

/**
 * Finds the workspace: `--workspace`, then CHANGEPROOF_WORKSPACE, then the current folder and its
 * parents, the first holding changeproof.yaml.
 */
export function findWorkspace(options: { flag?: string; env?: string; cwd: string }): string {
  const explicit = options.flag ?? options.env;
  if (explicit) {
    const root = resolve(options.cwd, explicit);
    if (!existsSync(join(root, CONFIG_FILE))) {
      throw new UsageError(
        `${root} is not a changeproof workspace (no ${CONFIG_FILE}); run changeproof init ${explicit}`,
      );
    }
    return root;
  }
  for (let dir = resolve(options.cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new UsageError(
    `no ${CONFIG_FILE} here or above; run changeproof init, or pass --workspace <dir>`,
  );
}
