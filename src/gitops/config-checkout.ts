import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Signer } from '../supply-chain/signer.ts';
import { git } from './git.ts';
import { bumpImage, ImageBumpError, overlayPath, type ImageBump } from './image-bump.ts';
import { renderKustomization, type KubeObject } from './render.ts';
import { commitSigned, type GitIdentity } from './signed-commit.ts';

/** What changed in the overlay: its path and the file before and after. */
export interface OverlayChange {
  path: string;
  before: string;
  after: string;
}

/**
 * A scratch clone of the config repo for one change: edit an overlay, render it with real
 * kustomize, commit with a broker-held key, push a branch. Nothing reaches the remote until
 * {@link ConfigCheckout.push}; {@link ConfigCheckout.dispose} removes the clone.
 */
export class ConfigCheckout {
  private constructor(
    readonly dir: string,
    readonly remote: string,
    readonly baseBranch: string,
    readonly baseCommit: string,
  ) {}

  /** Clones `branch` of `remote` (a path or URL git understands) into a fresh folder. */
  static async clone(remote: string, branch: string): Promise<ConfigCheckout> {
    const dir = mkdtempSync(join(tmpdir(), 'changeproof-config-'));
    try {
      await git(['clone', '--quiet', '--single-branch', '--branch', branch, remote, dir], {
        cwd: dirname(dir),
      });
      const head = (await git(['rev-parse', 'HEAD'], { cwd: dir })).trim();
      return new ConfigCheckout(dir, remote, branch, head);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Points the service's overlay in `env` at a new image; see {@link bumpImage}. */
  bumpOverlay(service: string, env: string, bump: ImageBump): OverlayChange {
    const path = overlayPath(service, env);
    const file = join(this.dir, path);
    const before = readOverlay(file, path);
    const after = bumpImage(before, bump, path);
    writeFileSync(file, after);
    return { path, before, after };
  }

  /** Renders the service's overlay in `env` as it now stands in the clone. */
  render(service: string, env: string): Promise<KubeObject[]> {
    return renderKustomization(join(this.dir, dirname(overlayPath(service, env))));
  }

  /**
   * The working tree's changes against the base commit: the unified diff without context lines
   * and the paths it touches.
   */
  async diff(): Promise<{ text: string; paths: string[] }> {
    const text = await git(['diff', '--unified=0', '--no-renames', this.baseCommit], {
      cwd: this.dir,
    });
    const paths = [...text.matchAll(/^diff --git a\/(.+) b\/\1$/gm)].map((match) => match[1]!);
    return { text, paths };
  }

  /** Commits every change as `branch`, signed through the broker; returns the commit id. */
  async commit(options: {
    branch: string;
    message: string;
    author: GitIdentity;
    signer: Signer;
  }): Promise<string> {
    await git(['add', '--all'], { cwd: this.dir });
    return commitSigned({
      cwd: this.dir,
      message: options.message,
      author: options.author,
      signer: options.signer,
      parents: [this.baseCommit],
      ref: `refs/heads/${options.branch}`,
    });
  }

  /** Pushes the branch to the remote; refuses to overwrite an existing branch. */
  async push(branch: string): Promise<void> {
    await git(['push', '--quiet', this.remote, `refs/heads/${branch}:refs/heads/${branch}`], {
      cwd: this.dir,
    });
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readOverlay(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ImageBumpError(
      'OVERLAY_MISSING',
      `${path} does not exist in the config repo; add the service's overlay for this environment`,
      { cause },
    );
  }
}
