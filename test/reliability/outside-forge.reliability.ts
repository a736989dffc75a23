import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { GithubForge } from '../../src/adapters/github/index.ts';
import { changeManagementFor, type ChangeManagement } from '../../src/change/index.ts';
import { bumpImageTag, commitFilesSigned } from '../../src/embedded/forge/commit-files.ts';
import type { EmbeddedSecretBroker } from '../../src/embedded/secret-broker/broker.ts';
import { git } from '../../src/gitops/git.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { GithubEmulator } from '../emulators/github/server.ts';
import { expectClearError } from './support/bounded.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { figures, ms, report } from './support/row.ts';

const FAULTS: Array<[string, Fault]> = [
  ['down', { kind: 'down' }],
  ['503', { kind: 'status', status: 503 }],
  ['500', { kind: 'status', status: 500 }],
  ['429 with Retry-After', { kind: 'status', status: 429, retryAfterSeconds: 0 }],
];
const SLOW_MS = 300;
const OVERLAY = 'apps/checkout/overlays/dev/kustomization.yaml';
const TOKENS = { 'tok-control-plane': 'changeproof-bot', 'tok-alice': 'alice' };
const ENV = {
  GITHUB_TOKEN: 'tok-control-plane',
  GITHUB_TOKEN_ALICE: 'tok-alice',
  GITHUB_WEBHOOK_SECRET: 'hook-secret',
};

describe('outside failures: the forge (GitHub) during merges', () => {
  let root: string;
  let github: GithubEmulator;
  let proxy: FaultProxy;
  let ws: WorkspaceContext;
  let cm: ChangeManagement;
  let pipeline: Signer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'changeproof-outside-forge-'));
    const dir = join(root, 'ws');
    await initWorkspace({ dir, name: 'forge' });
    // GitHub hosts the config repo: the emulator serves the workspace's bare repo.
    github = new GithubEmulator('acme', 'config', TOKENS, { gitDir: join(dir, 'config-repo.git') });
    await github.start();
    proxy = await startFaultProxy(github.url);
    selectGithubBehind(proxy, join(dir, 'changeproof.yaml'), join(dir, 'config-repo.git'));
    ws = await openWorkspace(dir, { env: ENV });
    cm = changeManagementFor(ws);
    pipeline = await pipelineSigner(ws);
  }, 60_000);
  afterAll(async () => {
    await ws?.close();
    await proxy?.close();
    await github?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const mainOnGithub = async () =>
    (await git(['rev-parse', 'main'], { cwd: ws.paths.configRepo })).trim();
  const mergedEntries = async (id: string) =>
    ws.ledger.list({ kind: 'proposal.merged', subject: `proposal:${id}` });

  /** A signed routine dev bump, proposed as a pull request while GitHub answers. */
  const proposeBump = async (tag: string) => {
    const branch = `bump-${tag}`;
    const current = await git(['show', `main:${OVERLAY}`], { cwd: ws.paths.configRepo });
    await commitFilesSigned({
      gitDir: ws.paths.configRepo,
      branch,
      files: { [OVERLAY]: bumpImageTag(current, tag) },
      message: `Bump checkout to ${tag}`,
      author: { name: 'changeproof pipeline', email: 'pipeline@changeproof.local' },
      signer: pipeline,
    });
    return cm.service.openProposal(cm.identity.actorFor('alice'), {
      title: `Deploy checkout ${tag}`,
      description: 'routine image bump',
      branch,
      evidence: {
        artifact: `127.0.0.1:5000/checkout@sha256:${'a'.repeat(64)}`,
        sbomDigest: `sha256:${'b'.repeat(64)}`,
        signer: 'pipeline',
        scanVerdict: 'pass',
      },
    });
  };

  it('makes merges wait while GitHub fails, merges nothing half-way, and merges once back', async (context) => {
    report(context, {
      area: 'Outside failures',
      tried: `forge (GitHub emulator) ${FAULTS.map(([name]) => name).join(', ')} and slow (${SLOW_MS} ms a request) during merges`,
    });
    expect(cm.forge).toBeInstanceOf(GithubForge);
    const outcomes: Record<string, string> = {};
    for (const [index, [name, fault]] of FAULTS.entries()) {
      proxy.set({ kind: 'pass' });
      const proposal = await proposeBump(`v5.${index}`);
      const before = await mainOnGithub();

      // While GitHub fails, the merge is refused in one clear line and nothing moves.
      proxy.set(fault);
      const refusal = await cm.service.merge(cm.identity.actorFor('alice'), proposal.id).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal, `merge with GitHub ${name}`).toBeDefined();
      expectClearError(refusal);
      expect(await mainOnGithub(), `main with GitHub ${name}`).toBe(before);
      expect(github.pulls.get(Number(proposal.id))?.merged).toBe(false);
      expect(await mergedEntries(proposal.id)).toHaveLength(0);

      // Back: the same merge goes through and is recorded once.
      proxy.set({ kind: 'pass' });
      const merged = await cm.service.merge(cm.identity.actorFor('alice'), proposal.id);
      expect(merged.state).toBe('merged');
      expect(await mainOnGithub()).toBe(merged.mergeCommit);
      expect(await mergedEntries(proposal.id)).toHaveLength(1);
      outcomes[name] = `refused ${(refusal as { code: string }).code}, merged once back`;
      figures(context, outcomes);
    }

    const proposal = await proposeBump('v5.slow');
    proxy.set({ kind: 'slow', delayMs: SLOW_MS });
    const started = Date.now();
    const merged = await cm.service.merge(cm.identity.actorFor('alice'), proposal.id);
    const slowMerge = Date.now() - started;
    proxy.set({ kind: 'pass' });
    expect(await mainOnGithub()).toBe(merged.mergeCommit);
    expect(await mergedEntries(proposal.id)).toHaveLength(1);
    figures(context, { 'merge at slow GitHub': ms(slowMerge), ...proxy.counts });
  });
});

/** Selects GitHub as the forge in changeproof.yaml, reached through the fault proxy. */
function selectGithubBehind(proxy: FaultProxy, configFile: string, configRepo: string): void {
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  document.setIn(['adapters', 'forge'], 'github');
  document.setIn(['adapters', 'github'], {
    owner: 'acme',
    repo: 'config',
    apiUrl: proxy.url,
    cloneUrl: configRepo,
  });
  writeFileSync(configFile, document.toString());
}

/** The pipeline's signer from the workspace's embedded secret broker. */
async function pipelineSigner(ws: WorkspaceContext): Promise<Signer> {
  const broker = ws.broker as EmbeddedSecretBroker;
  const lease = await broker.openLease({
    holder: 'test',
    scopes: ['sign:pipeline'],
    ttlSeconds: 3600,
  });
  return broker.signer(lease.id, 'pipeline');
}
