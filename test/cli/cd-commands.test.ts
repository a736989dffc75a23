import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { startRegistry, type RunningRegistry } from '../../src/embedded/registry/index.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { writeFiles } from '../../src/gitops/seed.ts';
import { envelopePayload, verifyEnvelope, type DsseEnvelope } from '../../src/supply-chain/dsse.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import {
  startWorkspaceSandboxes,
  type RunningSandboxes,
} from '../../src/server/embedded-services.ts';
import { toolPath } from '../../src/tools.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { pushTestImage } from '../reconcile/fixtures.ts';
import { startCli, type CliResult } from '../support/cli.ts';

/*
 * The CD plane's commands through the real binary, against a workspace whose sandboxes, registry
 * and ledger live in this process: the pipeline key signs two images, each is committed to the
 * prod overlay and synced with `changeproof sync`, and then `verify` and `rollback` are run as an
 * operator would run them.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-cd-cli-'));
const overlay = 'apps/checkout/overlays/prod/kustomization.yaml';
let ws: WorkspaceContext;
let registry: RunningRegistry;
let sandboxes: RunningSandboxes;
let pipeline: { signer: Signer; release(): Promise<void> };
const delivered: { image: string; commit: string }[] = [];

/**
 * Runs the binary without blocking this process: the sandboxes it talks to serve from here, so a
 * synchronous spawn would deadlock.
 */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = startCli([...args, '-w', ws.paths.root], { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { status: code ?? -1, stdout, stderr };
}

function kubectl(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      toolPath('kubectl'),
      ['--context', 'sandbox-prod', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: root, KUBECONFIG: ws.paths.kubeconfig } },
      (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }),
    );
  });
}

/** What `deliver` would do, by hand: a signed, attested image pinned in the prod overlay. */
async function deliverToProd(seed: string): Promise<{ image: string; commit: string }> {
  const image = await pushTestImage(registry.host, pipeline.signer, seed, {});
  const [name, digest] = image.split('@');
  const work = join(root, 'work');
  const text = readFileSync(join(work, overlay), 'utf8')
    .replace(/newName: .*/, `newName: ${name}`)
    .replace(/(newTag|digest): .*/, `digest: ${digest}`);
  writeFiles(work, { [overlay]: text });
  await git([...identityArgs('Dev', 'dev@example.test'), 'commit', '-qam', `deliver ${seed}`], {
    cwd: work,
  });
  await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
  return { image, commit: (await git(['rev-parse', 'HEAD'], { cwd: work })).trim() };
}

async function sealedVerifications() {
  const entries = await ws.ledger.list({
    kind: 'verification.sealed',
    subject: 'app:prod/checkout',
  });
  return entries.map((entry) => evidenceOf(entry, 'verification.sealed')!);
}

beforeAll(async () => {
  await initWorkspace({ dir: join(root, 'ws'), name: 'cd-cli' });
  ws = await openWorkspace(join(root, 'ws'));
  registry = await startRegistry({ dataDir: join(root, 'registry') });
  sandboxes = await startWorkspaceSandboxes(ws);
  const lease = await ws.broker.openLease({
    holder: 'test:pipeline',
    scopes: ['sign:pipeline'],
    ttlSeconds: 600,
  });
  pipeline = {
    signer: await ws.broker.signer(lease.id, 'pipeline'),
    release: () => ws.broker.revokeLease(lease.id),
  };
  await git(['clone', '-q', ws.paths.configRepo, join(root, 'work')], { cwd: root });

  for (const seed of ['v1', 'v2']) {
    delivered.push(await deliverToProd(seed));
    const sync = await cli(['sync', 'checkout', '--env', 'prod', '-o', 'json']);
    expect(sync.stderr).toBe('');
    expect(sync.status).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject([
      { app: 'prod/checkout', health: 'Healthy', commit: delivered.at(-1)!.commit },
    ]);
  }
}, 180_000);

afterAll(async () => {
  await pipeline?.release();
  await sandboxes?.close();
  await registry?.close();
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('changeproof verify --env prod', () => {
  it('seals a signed verification of the approved commit and exits 0 when live equals it', async () => {
    const result = await cli(['verify', '--env', 'prod', '-o', 'json']);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const [printed] = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      app: 'prod/checkout',
      equal: true,
      configCommit: delivered[1]!.commit,
      deployment: 'prod/checkout/2',
    });
    const sealed = (await sealedVerifications()).at(-1)!;
    expect(sealed).toMatchObject({ equal: true, configCommit: delivered[1]!.commit });
    expect(sealed.liveDigest).toBe(sealed.desiredDigest);
    // The attestation is signed by the control-plane key and states what the entry says.
    const envelope = sealed.attestation as unknown as DsseEnvelope;
    expect(verifyEnvelope(envelope, ws.controlPlanePublicKey)).toBe(true);
    const statement = JSON.parse(envelopePayload(envelope).toString('utf8'));
    expect(statement.predicate).toMatchObject({
      app: 'prod/checkout',
      equal: true,
      desiredDigest: sealed.desiredDigest,
    });
  });

  it('exits 1 naming the application when live differs, and seals that answer too', async () => {
    const before = (await sealedVerifications()).length;
    const edit = await kubectl([
      'set',
      'image',
      '-n',
      'checkout-prod',
      'deployment/checkout',
      `checkout=${delivered[0]!.image}`,
    ]);
    expect(edit.stderr).toBe('');

    const result = await cli(['verify', '--env', 'prod']);

    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'changeproof: live state differs from approved for prod/checkout (sealed)',
    ]);
    const sealed = await sealedVerifications();
    expect(sealed).toHaveLength(before + 1);
    expect(sealed.at(-1)!.equal).toBe(false);
    expect(sealed.at(-1)!.liveDigest).not.toBe(sealed.at(-1)!.desiredDigest);
  });
});

describe('changeproof rollback checkout --env prod', () => {
  it('opens a revert proposal restoring the overlay the deployment before used', async () => {
    const token = (await cli(['token', 'issue', 'alice'])).stdout.trim();

    const result = await cli(
      ['rollback', 'checkout', '--env', 'prod', '--reason', 'error rate up', '-o', 'json'],
      { CHANGEPROOF_TOKEN: token },
    );

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const opened = JSON.parse(result.stdout) as { proposal: string; branch: string; title: string };
    expect(opened.title).toBe('Roll back prod/checkout to prod/checkout/1');
    const shown = await cli(['proposal', 'show', opened.proposal, '-o', 'json'], {
      CHANGEPROOF_TOKEN: token,
    });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      proposal: { id: opened.proposal, state: 'open', author: 'alice', branch: opened.branch },
    });
    // What it reverts: the prod overlay, back to the first image's digest, nothing else.
    const cwd = ws.paths.configRepo;
    const restored = await git(['show', `${opened.branch}:${overlay}`], { cwd });
    expect(restored).toBe(await git(['show', `${delivered[0]!.commit}:${overlay}`], { cwd }));
    expect(restored).toContain(delivered[0]!.image.split('@')[1]);
    const changed = await git(['diff', '--name-only', `main...${opened.branch}`], { cwd });
    expect(changed.trim()).toBe(overlay);
    const [requested] = await ws.ledger.list({ kind: 'rollback.requested' });
    expect(evidenceOf(requested!, 'rollback.requested')).toMatchObject({
      app: 'prod/checkout',
      toCommit: delivered[0]!.commit,
      proposal: opened.proposal,
      reason: 'error rate up',
    });
  });
});
