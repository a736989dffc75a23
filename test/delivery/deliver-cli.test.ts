import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { git } from '../../src/gitops/git.ts';
import { openWorkspace } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { repoRoot, type CliResult } from '../support/cli.ts';
import { deliveryFixture, demoAppCheckout, type DeliveryFixture } from './helpers/setup.ts';

/**
 * Runs the real binary without blocking: the registry it pushes to answers from this process.
 * Not a TTY, so progress comes as one plain line per step on stderr.
 */
function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'changeproof.mjs'), ...args], {
      env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

describe('changeproof deliver', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
  });
  afterAll(() => fixture?.close());

  it('prints plain step lines on stderr and one JSON result on stdout', async () => {
    const result = await runCliAsync([
      '--workspace',
      fixture.ws.paths.root,
      'deliver',
      '--service',
      'checkout',
      '--env',
      'dev',
      '--source',
      fixture.appDir,
      '--junit',
      'junit.xml',
    ]);

    expect(result.status, result.stderr).toBe(0);
    const steps = result.stderr.split('\n').filter((line) => line.startsWith('deliver: '));
    expect(steps.map((line) => line.split(/\s+/).slice(1, 3))).toEqual(
      ['test', 'build', 'sbom', 'scan', 'push', 'sign', 'attest', 'propose'].map((s) => [s, 'ok']),
    );
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      service: 'checkout',
      env: 'dev',
      image: expect.stringMatching(/^127\.0\.0\.1:\d+\/checkout@sha256:[a-f0-9]{64}$/),
      signatureTag: expect.stringMatching(/^sha256-[a-f0-9]{64}\.sig$/),
      attestationTag: expect.stringMatching(/^sha256-[a-f0-9]{64}\.att$/),
      sbomDigest: expect.stringMatching(/^sha256:/),
      scanVerdict: 'pass',
      proposal: { id: '1' },
      clusterCredentialsHeld: false,
    });
    // The run's only credential: a broker lease of 15 minutes, revoked at its end.
    const [lease] = await fixture.ws.ledger.list({ kind: 'broker.lease.opened' });
    expect(evidenceOf(lease!, 'broker.lease.opened')).toMatchObject({ ttlSeconds: 900 });
    const revoked = await fixture.ws.ledger.list({ kind: 'broker.lease.revoked' });
    expect(revoked.map((e) => e.payload.id)).toContain(lease!.payload.id);
  });

  it('opens the lease for --lease-ttl, and refuses one outside 1m to 1h before anything runs', async () => {
    const args = ['--workspace', fixture.ws.paths.root, 'deliver', '--service', 'checkout'];
    const before = (await fixture.ws.ledger.head())?.seq ?? 0;
    const refused = await runCliAsync([...args, '--env', 'dev', '--lease-ttl', '2h']);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'changeproof: --lease-ttl 2h is not between 1m and 1h; give e.g. 15m or 900s',
    ]);
    expect((await fixture.ws.ledger.head())?.seq ?? 0).toBe(before);

    const result = await runCliAsync([
      ...args,
      '--env',
      'staging',
      '--source',
      fixture.appDir,
      '--lease-ttl',
      '5m',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const opened = await fixture.ws.ledger.list({ kind: 'broker.lease.opened', afterSeq: before });
    expect(opened.map((e) => evidenceOf(e, 'broker.lease.opened')!.ttlSeconds)).toEqual([300]);
  });

  it('refuses a dirty tree in one line with exit 1 and a ledger entry', async () => {
    const dir = await demoAppCheckout(mkdtempSync(join(fixture.root, 'dirty-')));
    writeFileSync(join(dir, 'scratch.txt'), 'x\n');

    const result = await runCliAsync([
      '--workspace',
      fixture.ws.paths.root,
      'deliver',
      '--service',
      'checkout',
      '--env',
      'dev',
      '--source',
      dir,
    ]);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `changeproof: ${dir} has 1 uncommitted change(s) (scratch.txt); commit them or pass --allow-dirty`,
    ]);
    const [failed] = (await fixture.ws.ledger.list({ kind: 'delivery.failed' })).slice(-1);
    expect(evidenceOf(failed!, 'delivery.failed')).toMatchObject({
      step: 'source',
      code: 'SOURCE_DIRTY',
    });
  });

  it('exits 2 for an unknown environment', async () => {
    const result = await runCliAsync([
      '--workspace',
      fixture.ws.paths.root,
      'deliver',
      '--service',
      'checkout',
      '--env',
      'qa',
      '--source',
      fixture.appDir,
    ]);

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'changeproof: environment qa is not in changeproof.yaml; use one of dev, staging, prod',
    );
  });
});

describe('changeproof deliver with its registry down', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-deliver-down-'));
  const wsDir = join(root, 'ws');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exits 3 in one line, records delivery.failed at push and proposes nothing', async () => {
    await initWorkspace({ dir: wsDir, name: 'registry-down' });
    const port = await freePort();
    const configFile = join(wsDir, 'changeproof.yaml');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, config.replace(/^(registry:\n\s+port:) \d+$/m, `$1 ${port}`));
    const appDir = await demoAppCheckout(join(root, 'app'));
    const branchesBefore = await git(['branch', '--list'], { cwd: join(wsDir, 'config-repo.git') });

    const result = await runCliAsync([
      ...['--workspace', wsDir, 'deliver', '--service', 'checkout', '--env', 'dev'],
      ...['--source', appDir],
    ]);

    expect(result.status).toBe(3);
    expect(result.stdout).toBe('');
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('changeproof: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`registry 127\\.0\\.0\\.1:${port} is unreachable`));
    const ws = await openWorkspace(wsDir);
    try {
      const failed = await ws.ledger.list({ kind: 'delivery.failed' });
      expect(failed.map((entry) => evidenceOf(entry, 'delivery.failed')?.step)).toEqual(['push']);
      await expect(ws.ledger.list({ kind: 'proposal.opened' })).resolves.toEqual([]);
    } finally {
      await ws.close();
    }
    const branchesAfter = await git(['branch', '--list'], { cwd: join(wsDir, 'config-repo.git') });
    expect(branchesAfter).toBe(branchesBefore);
  });
});

/** A loopback port that nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
