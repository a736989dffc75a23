import { execFileSync } from 'node:child_process';

/**
 * The git side of the GitHub emulator: a real bare repository that pipelines push branches to.
 * Branch heads and pull request files are read from it, and a merge writes a real merge commit
 * onto the base branch with compare-and-swap, as GitHub's merge button does.
 */
export class GitRepository {
  constructor(readonly gitDir: string) {}

  head(ref: string): string | undefined {
    try {
      return this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${ref}^{commit}`]).trim();
    } catch {
      return undefined;
    }
  }

  /** The branch's head and its files changed since it left `base`, with their patches. */
  branch(ref: string, base: string) {
    const sha = this.head(ref);
    const baseSha = this.head(base);
    if (!sha || !baseSha) return undefined;
    const forkPoint = this.git(['merge-base', baseSha, sha]).trim();
    const names = this.git(['diff', '--name-only', forkPoint, sha]).split('\n').filter(Boolean);
    const files = names.map((filename) => ({
      filename,
      // GitHub's `patch` starts at the first hunk, without the diff header.
      patch: this.git(['diff', '--no-color', forkPoint, sha, '--', filename]).replace(
        /^[\s\S]*?(?=^@@)/m,
        '',
      ),
    }));
    return { sha, files };
  }

  /**
   * Merges `head` into `base` with a merge commit, or returns undefined when `base` has moved
   * past the head's fork point (the emulated protection requires an up-to-date branch).
   */
  mergeCommit(base: string, head: string, message: string): string | undefined {
    const baseSha = this.head(base);
    if (!baseSha || this.git(['merge-base', baseSha, head]).trim() !== baseSha) return undefined;
    const tree = this.git(['rev-parse', `${head}^{tree}`]).trim();
    const commit = this.git(['commit-tree', tree, '-p', baseSha, '-p', head, '-m', message]).trim();
    this.git(['update-ref', `refs/heads/${base}`, commit, baseSha]);
    return commit;
  }

  private git(args: string[]): string {
    return execFileSync('git', ['--git-dir', this.gitDir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'GitHub',
        GIT_AUTHOR_EMAIL: 'noreply@github.com',
        GIT_COMMITTER_NAME: 'GitHub',
        GIT_COMMITTER_EMAIL: 'noreply@github.com',
      },
    });
  }
}
