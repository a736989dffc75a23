import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeManagement, changeManagementFor } from '../../src/change/index.ts';
import type { ChangeManagementOptions } from '../../src/change/index.ts';
import type { Actor } from '../../src/domain/identity.ts';
import { bumpImageTag, commitFilesSigned } from '../../src/embedded/forge/commit-files.ts';
import { EmbeddedSecretBroker } from '../../src/embedded/secret-broker/broker.ts';
import { git } from '../../src/gitops/git.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';

/** A real workspace (init), its change management, and a pipeline signer from its broker. */
export interface TestBed {
  root: string;
  ws: WorkspaceContext;
  cm: ChangeManagement;
  pipeline: Signer;
  as(name: string): Actor;
  /** Commits a signed routine image bump for `env` on `branch`; returns the commit. */
  bump(branch: string, env: string, tag: string, parent?: string): Promise<string>;
  /** Commits arbitrary signed file edits on `branch`. */
  edit(branch: string, files: Record<string, string | null>, parent?: string): Promise<string>;
  readMain(path: string): Promise<string>;
  mainHead(): Promise<string>;
  dispose(): Promise<void>;
}

export async function createTestBed(
  options: Partial<Pick<ChangeManagementOptions, 'changeSystem' | 'clock' | 'checks'>> & {
    /** A database URL (PostgreSQL); SQLite in the workspace by default. */
    database?: string;
  } = {},
): Promise<TestBed> {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-change-'));
  const { database, ...changeOptions } = options;
  await initWorkspace({ dir: join(root, 'ws'), name: 'test', ...(database ? { database } : {}) });
  const ws = await openWorkspace(join(root, 'ws'));
  const cm = changeManagementFor(ws, changeOptions);
  const broker = ws.broker as EmbeddedSecretBroker;
  const lease = await broker.openLease({
    holder: 'test',
    scopes: ['sign:pipeline'],
    ttlSeconds: 3600,
  });
  const pipeline = await broker.signer(lease.id, 'pipeline');
  const gitDir = ws.paths.configRepo;
  const author = { name: 'changeproof pipeline', email: 'pipeline@changeproof.local' };
  const readMain = async (path: string) => git(['show', `main:${path}`], { cwd: gitDir });
  const edit = (branch: string, files: Record<string, string | null>, parent?: string) =>
    commitFilesSigned({
      gitDir,
      branch,
      files,
      message: `Edit ${Object.keys(files).join(', ')}`,
      author,
      signer: pipeline,
      ...(parent ? { parent } : {}),
    });
  return {
    root,
    ws,
    cm,
    pipeline,
    as: (name) => cm.identity.actorFor(name),
    async bump(branch, env, tag, parent) {
      const path = `apps/checkout/overlays/${env}/kustomization.yaml`;
      const current = parent
        ? await git(['show', `${parent}:${path}`], { cwd: gitDir })
        : await readMain(path);
      return edit(branch, { [path]: bumpImageTag(current, tag) }, parent);
    },
    edit,
    readMain,
    mainHead: async () => (await git(['rev-parse', 'main'], { cwd: gitDir })).trim(),
    async dispose() {
      await ws.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Opens a proposal for `branch` as `author`, through the service (roles checked). */
export async function propose(bed: TestBed, branch: string, author = 'alice') {
  return bed.cm.service.openProposal(bed.as(author), {
    title: `Deploy ${branch}`,
    description: 'routine image bump',
    branch,
    evidence: {
      artifact: `127.0.0.1:5000/checkout@sha256:${'a'.repeat(64)}`,
      sbomDigest: `sha256:${'b'.repeat(64)}`,
      signer: 'pipeline',
      scanVerdict: 'pass',
    },
  });
}
