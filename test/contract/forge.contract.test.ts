import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GithubForge } from '../../src/adapters/github/index.ts';
import type { Forge } from '../../src/domain/forge.ts';
import { EmbeddedForge, type ForgePolicy } from '../../src/embedded/forge/index.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { writeFiles } from '../../src/gitops/seed.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { GithubEmulator } from '../emulators/github/server.ts';
import { freshStore } from '../support/stores.ts';

/**
 * The Forge port's contract: the embedded forge and the GitHub adapter refuse and allow the same
 * things, with the same codes and the same evidence. Each world opens routine image bumps on a
 * branch, records pushes and moves the branch head its own way; the scenarios are shared.
 */
interface ForgeWorld {
  forge: Forge;
  ledger: Ledger;
  /** Pushes a new routine bump onto `branch` (creating it) and returns the new head. */
  push(branch: string): Promise<string>;
  close(): Promise<void>;
}

const overlay = 'apps/payments/overlays/prod/kustomization.yaml';
const policy: ForgePolicy = {
  protectionFor: async () => ({
    requiredApprovals: 1,
    requiredContexts: ['changeproof/change-approved'],
    requireSignedCommits: false,
  }),
  rolesOf: (user) => (user === 'bob' ? ['approver'] : ['developer']),
};

async function embeddedWorld(): Promise<ForgeWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-contract-'));
  const bare = join(dir, 'config.git');
  const work = join(dir, 'work');
  const who = identityArgs('ci-bot', 'ci@example.test');
  await git(['init', '-q', '--bare', '--initial-branch=main', bare], { cwd: dir });
  await git(['clone', '-q', bare, work], { cwd: dir });
  writeFiles(work, { [overlay]: 'images:\n  - name: payments\n    newTag: v0\n' });
  await git(['add', '-A'], { cwd: work });
  await git([...who, 'commit', '-qm', 'seed'], { cwd: work });
  await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
  const { store, dispose } = await freshStore('sqlite');
  const ledger = new Ledger(store);
  const forge = new EmbeddedForge({
    gitDir: bare,
    store,
    ledger,
    stateDir: join(dir, 'state'),
    allowedSigners: [],
    environments: ['dev', 'prod'],
    policy,
  });
  let bumps = 0;
  return {
    forge,
    ledger,
    async push(branch) {
      await git(['checkout', '-q', '-B', branch, bumps === 0 ? 'origin/main' : branch], {
        cwd: work,
      }).catch(() => git(['checkout', '-q', '-b', branch, 'origin/main'], { cwd: work }));
      bumps += 1;
      writeFiles(work, { [overlay]: `images:\n  - name: payments\n    newTag: v${bumps}\n` });
      await git([...who, 'commit', '-qam', `bump ${bumps}`], { cwd: work });
      await git(['push', '-q', '-f', 'origin', `${branch}:${branch}`], { cwd: work });
      return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
    },
    async close() {
      await dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const tokens = { 'tok-ci': 'ci-bot', 'tok-bob': 'bob', 'tok-carol': 'carol' };
const bump = {
  filename: overlay,
  patch: '@@ -3,1 +3,1 @@\n-    newTag: v0\n+    newTag: v1',
};

async function githubWorld(): Promise<ForgeWorld> {
  const github = new GithubEmulator('acme', 'config', tokens);
  await github.start();
  const { store, dispose } = await freshStore('sqlite');
  const ledger = new Ledger(store);
  const forge = new GithubForge({
    apiUrl: github.url,
    owner: 'acme',
    repo: 'config',
    cloneUrl: 'https://github.com/acme/config.git',
    tokenFor: (actor) =>
      actor
        ? Object.keys(tokens).find((t) => tokens[t as keyof typeof tokens] === actor)
        : 'tok-ci',
    ledger,
    policy,
    backoffMs: 5,
    timeoutMs: 300,
  });
  return {
    forge,
    ledger,
    push: async (branch) => github.push(branch, [bump]),
    async close() {
      await dispose();
      await github.stop();
    },
  };
}

describe.each([
  ['embedded forge', embeddedWorld],
  ['GitHub adapter', githubWorld],
] as const)('Forge contract: %s', (_name, makeWorld) => {
  let world: ForgeWorld;
  beforeAll(async () => {
    world = await makeWorld();
  });
  afterAll(() => world?.close());

  async function open(branch: string) {
    await world.push(branch);
    return world.forge.openProposal({
      title: 'payments',
      description: 'bump',
      author: 'ci-bot',
      branch,
    });
  }

  it('opens a proposal with its target and records it', async () => {
    const proposal = await open('contract-1');
    expect(proposal).toMatchObject({
      service: 'payments',
      env: 'prod',
      author: 'ci-bot',
      state: 'open',
    });
    const opened = await world.ledger.list({
      kind: 'proposal.opened',
      subject: `proposal:${proposal.id}`,
    });
    expect(opened).toHaveLength(1);
  });

  it('refuses approval by the author and by the last pusher, and records both', async () => {
    const proposal = await open('contract-2');
    await expect(
      world.forge.review(proposal.id, {
        reviewer: 'ci-bot',
        state: 'approved',
        commit: proposal.headCommit,
      }),
    ).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    const head = await world.push('contract-2');
    await world.forge.recordPush(proposal.id, 'carol');
    await expect(
      world.forge.review(proposal.id, { reviewer: 'carol', state: 'approved', commit: head }),
    ).rejects.toMatchObject({ code: 'LAST_PUSHER_APPROVAL' });
    const refused = await world.ledger.list({
      kind: 'proposal.refused',
      subject: `proposal:${proposal.id}`,
    });
    expect(refused.map((e) => e.payload.code)).toEqual(['SELF_APPROVAL', 'LAST_PUSHER_APPROVAL']);
  });

  it('merges only with an approval of the head and the required check, snapshotting the approval', async () => {
    const proposal = await open('contract-3');
    await expect(world.forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
      code: 'APPROVALS_REQUIRED',
    });
    await world.forge.review(proposal.id, {
      reviewer: 'bob',
      state: 'approved',
      commit: proposal.headCommit,
    });
    await expect(world.forge.merge(proposal.id, 'carol')).rejects.toMatchObject({
      code: 'CHECKS_REQUIRED',
    });
    await world.forge.setStatus({
      commit: proposal.headCommit,
      context: 'changeproof/change-approved',
      state: 'success',
      description: 'approved',
    });
    const merged = await world.forge.merge(proposal.id, 'carol');
    expect(merged.state).toBe('merged');
    const [entry] = await world.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${proposal.id}`,
    });
    expect(entry?.payload).toMatchObject({
      headCommit: proposal.headCommit,
      approvals: [{ reviewer: 'bob', roles: ['approver'], commit: proposal.headCommit }],
    });
  });
});
