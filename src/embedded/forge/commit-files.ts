import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../../gitops/git.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { writeSignedCommitObject } from '../../gitops/signed-commit.ts';

export interface CommitFilesRequest {
  /** The bare config repo. */
  gitDir: string;
  /** The branch to create or move; it starts from `parent` (main by default). */
  branch: string;
  parent?: string;
  /** New contents by path; null deletes the path. */
  files: Record<string, string | null>;
  message: string;
  author: { name: string; email: string };
  signer: Signer;
}

/**
 * Commits file edits straight into a bare repo (a private index, no work tree) as one commit
 * signed by `signer`, and points `branch` at it. Returns the commit id. This is how changeproof
 * writes to the config repo without a checkout.
 */
export async function commitFilesSigned(request: CommitFilesRequest): Promise<string> {
  const { gitDir } = request;
  const parent = (await git(['rev-parse', request.parent ?? 'main'], { cwd: gitDir })).trim();
  const scratch = mkdtempSync(join(tmpdir(), 'changeproof-index-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await git(['read-tree', parent], { cwd: gitDir, env });
    for (const [path, content] of Object.entries(request.files)) {
      if (content === null) {
        await git(['update-index', '--force-remove', path], { cwd: gitDir, env });
        continue;
      }
      const blob = (
        await git(['hash-object', '-w', '--stdin'], { cwd: gitDir, input: content })
      ).trim();
      await git(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], {
        cwd: gitDir,
        env,
      });
    }
    const tree = (await git(['write-tree'], { cwd: gitDir, env })).trim();
    const commit = await writeSignedCommitObject({
      cwd: gitDir,
      tree,
      parents: [parent],
      message: request.message,
      author: { ...request.author, date: new Date() },
      signer: request.signer,
    });
    await git(['update-ref', `refs/heads/${request.branch}`, commit], { cwd: gitDir });
    return commit;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The overlay text with the image's `newTag` replaced: the routine edit a delivery makes. */
export function bumpImageTag(kustomization: string, tag: string): string {
  return kustomization.replace(/^(\s*newTag:\s*).*$/m, `$1${tag}`);
}
