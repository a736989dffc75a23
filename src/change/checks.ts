import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proposal } from '../domain/forge.ts';
import { readAt } from '../embedded/forge/diff.ts';
import { messageOf } from '../errors.ts';
import { renderKustomization } from '../gitops/render.ts';
import { parseEnvironmentFile } from './governance.ts';

export interface CheckResult {
  state: 'success' | 'failure';
  description: string;
}

const ENVIRONMENT_FILE = /^environments\/([^/]+)\.yaml$/;
const APP = /^apps\/([^/]+)\//;

/**
 * The `changeproof/render` check: every environment file the proposal changes parses, and each
 * touched service's overlay for the target environment renders with real kustomize at the head.
 */
export async function renderCheck(gitDir: string, proposal: Proposal): Promise<CheckResult> {
  const paths = proposal.changedPaths ?? [];
  try {
    for (const path of paths) {
      const env = ENVIRONMENT_FILE.exec(path)?.[1];
      if (!env) continue;
      const text = await readAt(gitDir, proposal.headCommit, path);
      if (text !== undefined) parseEnvironmentFile(text, path, env);
    }
    const services = [...new Set(paths.map((p) => APP.exec(p)?.[1]).filter(isString))];
    if (services.length === 0 || !proposal.env) {
      return { state: 'success', description: 'no overlay to render' };
    }
    const objects = await renderServices(gitDir, proposal.headCommit, services, proposal.env);
    return { state: 'success', description: `rendered ${objects} objects for ${proposal.env}` };
  } catch (error) {
    return { state: 'failure', description: messageOf(error).slice(0, 200) };
  }
}

async function renderServices(
  gitDir: string,
  commit: string,
  services: string[],
  env: string,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-render-'));
  try {
    await extract(
      gitDir,
      commit,
      services.map((s) => `apps/${s}`),
      dir,
    );
    let count = 0;
    for (const service of services) {
      const overlay = join(dir, 'apps', service, 'overlays', env);
      if (existsSync(overlay)) count += (await renderKustomization(overlay)).length;
    }
    return count;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the tree of `paths` at `commit` into `dir` (git archive piped into tar). */
function extract(gitDir: string, commit: string, paths: string[], dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = execFile('git', ['archive', '--format=tar', commit, ...paths], {
      cwd: gitDir,
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
    });
    const untar = execFile('tar', ['-x', '-C', dir], (error) =>
      error ? reject(error) : resolve(),
    );
    archive.stdout!.pipe(untar.stdin!);
    archive.on('error', reject);
  });
}

function isString(value: string | undefined): value is string {
  return typeof value === 'string';
}
