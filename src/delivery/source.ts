import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { git } from '../gitops/git.ts';
import { DeliveryError } from './errors.ts';

/** The application source a delivery builds, as git sees it. */
export interface SourceState {
  dir: string;
  /** Full commit SHA of HEAD. */
  commit: string;
  /** The branch HEAD is on; undefined when detached. */
  branch?: string;
  /** Where the source lives: `origin`'s URL, or a file URL of the checkout. */
  repository: string;
  /** Paths with uncommitted changes (tracked or untracked), as `git status` lists them. */
  changes: string[];
}

/** Reads the source tree's commit, branch, origin and uncommitted changes. */
export async function inspectSource(dir: string): Promise<SourceState> {
  const absolute = resolve(dir);
  if (!existsSync(absolute)) {
    throw new DeliveryError('SOURCE_NOT_GIT', `${absolute} does not exist; pass --source <dir>`);
  }
  const run = (args: string[]) => git(args, { cwd: absolute }).then((out) => out.trim());
  const commit = await run(['rev-parse', '--verify', 'HEAD^{commit}']).catch(() => '');
  if (!commit) {
    throw new DeliveryError(
      'SOURCE_NOT_GIT',
      `${absolute} is not a git checkout with a commit; commit the source first`,
    );
  }
  const branch = await run(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
  const origin = await run(['remote', 'get-url', 'origin']).catch(() => '');
  // Not trimmed: each porcelain line starts with a two-column status that may be a space.
  const status = await git(['status', '--porcelain=v1', '--untracked-files=all'], {
    cwd: absolute,
  });
  return {
    dir: absolute,
    commit,
    ...(branch ? { branch } : {}),
    repository: origin || `file://${absolute}`,
    changes: status
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3)),
  };
}

/**
 * Refuses a source tree that is not exactly a commit on a branch: uncommitted changes would be
 * built but not named by the commit the image is tagged with, and a detached HEAD names no
 * branch the commit came from. `--allow-dirty` lifts both refusals; the run records that.
 */
export function assertDeliverable(source: SourceState, allowDirty: boolean): void {
  if (allowDirty) return;
  if (source.changes.length > 0) {
    const sample = source.changes.slice(0, 3).join(', ');
    throw new DeliveryError(
      'SOURCE_DIRTY',
      `${source.dir} has ${source.changes.length} uncommitted change(s) (${sample}); commit them or pass --allow-dirty`,
    );
  }
  if (!source.branch) {
    throw new DeliveryError(
      'SOURCE_DETACHED',
      `${source.dir} is on a detached HEAD (${source.commit.slice(0, 12)}); check out a branch or pass --allow-dirty`,
    );
  }
}
