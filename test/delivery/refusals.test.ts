import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import type { DeliverRequest, DeliveryDeps } from '../../src/delivery/types.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { openRegistryStorage } from '../../src/embedded/registry/index.ts';
import { keyPaths } from '../../src/embedded/secret-broker/keys.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { freePort } from '../../src/workspace/init.ts';
import { buildImage } from '../../src/supply-chain/image/build.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import {
  commitAll,
  deliveryFixture,
  demoAppCheckout,
  type DeliveryFixture,
} from './helpers/setup.ts';

describe('deliver refuses bad input', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
  });
  afterAll(() => fixture?.close());

  async function app(): Promise<string> {
    return demoAppCheckout(mkdtempSync(join(fixture.root, 'app-')));
  }

  /** Runs deliver expecting a refusal; returns the error and the run's last ledger entry. */
  async function refused(request: Partial<DeliverRequest>, deps?: Partial<DeliveryDeps>) {
    const error = await deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, ...request },
      fixture.deps(deps),
    ).then(
      () => undefined,
      (thrown: unknown) => thrown as { code: string; category: string; message: string },
    );
    expect(error, 'deliver should have refused').toBeDefined();
    const [last] = await fixture.ws.ledger
      .list({ kind: 'delivery.failed' })
      .then((e) => e.slice(-1));
    const failed = evidenceOf(last!, 'delivery.failed')!;
    const steps = (await fixture.ws.ledger.list({ subject: last!.subject }))
      .flatMap((entry) => evidenceOf(entry, 'delivery.step') ?? [])
      .map((step) => `${step.step}:${step.status}`);
    return { error: error!, failed, steps };
  }

  function manifestsIn(repository = 'checkout') {
    return openRegistryStorage(fixture.ws.paths.registryDir).listManifests(repository);
  }

  async function configBranches(): Promise<string[]> {
    const out = await git(['for-each-ref', '--format=%(refname:short)', 'refs/heads'], {
      cwd: fixture.ws.paths.configRepo,
    });
    return out.split('\n').filter(Boolean);
  }

  async function expectNothingPushedOrProposed(): Promise<void> {
    expect(manifestsIn()).toEqual([]);
    await expect(fixture.forge.listProposals()).resolves.toEqual([]);
    return expect(configBranches()).resolves.toEqual(['main']);
  }

  it('refuses a source tree with uncommitted changes', async () => {
    const dir = await app();
    writeFileSync(join(dir, 'src', 'price.js'), '// edited\n', { flag: 'a' });

    const { error, failed, steps } = await refused({ sourceDir: dir });

    expect(error.code).toBe('SOURCE_DIRTY');
    expect(error.message).toMatch(
      /1 uncommitted change\(s\) \(src\/price.js\); commit them or pass --allow-dirty$/,
    );
    expect(failed).toMatchObject({ step: 'source', code: 'SOURCE_DIRTY' });
    expect(steps).toEqual([]);
    await expectNothingPushedOrProposed();
  });

  it('refuses a detached HEAD', async () => {
    const dir = await app();
    await git(['checkout', '--quiet', '--detach'], { cwd: dir });

    const { error, failed } = await refused({ sourceDir: dir });

    expect(error.code).toBe('SOURCE_DETACHED');
    expect(failed.step).toBe('source');
    await expectNothingPushedOrProposed();
  });

  it("refuses a scan policy looser than the service's before starting", async () => {
    await expect(
      deliver(
        { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, scanPolicy: 'warn' },
        fixture.deps(),
      ),
    ).rejects.toMatchObject({ code: 'SCAN_POLICY_LOOSER', category: 'usage' });
    await expectNothingPushedOrProposed();
  });

  it('refuses a folder that is not a git checkout', async () => {
    const { error, failed } = await refused({
      sourceDir: mkdtempSync(join(fixture.root, 'plain-')),
    });

    expect(error.code).toBe('SOURCE_NOT_GIT');
    expect(failed.step).toBe('source');
  });

  it('stops at failing tests, recording the exit code', async () => {
    const dir = await app();
    writeFileSync(
      join(dir, 'test', 'broken.test.js'),
      "import { test } from 'node:test';\ntest('x', () => { throw new Error('no'); });\n",
    );
    await commitAll(dir, 'Break a test');

    const { error, failed, steps } = await refused({ sourceDir: dir, junitFile: 'junit.xml' });

    expect(error.code).toBe('TEST_FAILED');
    expect(error.message).toMatch(
      /^tests failed: npm test exited 1 \(1 failure\(s\), 0 error\(s\)\)/,
    );
    expect(failed.step).toBe('test');
    expect(steps).toEqual(['test:failed']);
    await expectNothingPushedOrProposed();
  });

  it('stops at a lockfile that does not parse, before pushing', async () => {
    const dir = await app();
    writeFileSync(join(dir, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": ');
    await commitAll(dir, 'Break the lockfile');

    const { error, failed, steps } = await refused({ sourceDir: dir });

    expect(error.code).toBe('LOCKFILE_INVALID');
    expect(error.message).not.toContain('\n');
    expect(failed.step).toBe('sbom');
    expect(steps).toEqual(['test:passed', 'build:passed', 'sbom:failed']);
    await expectNothingPushedOrProposed();
  });

  it('blocks an image with a critical finding: nothing pushed, signed or proposed', async () => {
    const dir = await app();
    const lockfile = join(dir, 'package-lock.json');
    writeFileSync(
      lockfile,
      readFileSync(lockfile, 'utf8').replace('"version": "1.1.0"', '"version": "1.0.0"'),
    );
    await commitAll(dir, 'Downgrade greeter');

    const { error, failed } = await refused({ sourceDir: dir });

    expect(error.code).toBe('SCAN_BLOCKED');
    expect(error.message).toMatch(
      /^scan gate blocked the image under block-critical: 1 critical, 1 low, e\.g\. x_CPDEMO-2025-0001/,
    );
    expect(failed.step).toBe('scan');
    const [scanStep] = (
      await fixture.ws.ledger.list({ kind: 'delivery.step', subject: `run:${failed.run}` })
    )
      .map((entry) => evidenceOf(entry, 'delivery.step')!)
      .filter((step) => step.step === 'scan');
    expect(scanStep).toMatchObject({ status: 'failed', outputs: { verdict: 'blocked' } });
    await expectNothingPushedOrProposed();
  });

  it('blocks on a critical finding another scanner reported in SARIF (--sarif)', async () => {
    const sarif = join(fixture.root, 'trivy.sarif');
    const rule = { id: 'CVE-2026-0001', properties: { 'security-severity': '9.8' } };
    writeFileSync(
      sarif,
      JSON.stringify({
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'Trivy', rules: [rule] } },
            results: [
              {
                ruleId: rule.id,
                level: 'error',
                message: { text: 'openssl: remote code execution' },
              },
            ],
          },
        ],
      }),
    );

    const { error, failed } = await refused({ sarifFiles: [sarif] });

    expect(error.code).toBe('SCAN_BLOCKED');
    expect(error.message).toMatch(/1 critical.*CVE-2026-0001/);
    expect(failed.step).toBe('scan');
    await expectNothingPushedOrProposed();
  });

  it('stops at an overlay without an images: entry for the service', async () => {
    const scratch = mkdtempSync(join(fixture.root, 'config-'));
    await git(['clone', '--quiet', fixture.ws.paths.configRepo, scratch], { cwd: fixture.root });
    const overlay = join(scratch, 'apps/checkout/overlays/staging/kustomization.yaml');
    writeFileSync(overlay, readFileSync(overlay, 'utf8').replace(/images:[\s\S]*$/, ''));
    const who = identityArgs('pat', 'pat@example.test');
    await git([...who, 'commit', '--quiet', '-am', 'Drop the staging image entry'], {
      cwd: scratch,
    });
    await git(['push', '--quiet', 'origin', 'main'], { cwd: scratch });

    const { error, failed } = await refused({ env: 'staging' });

    expect(error.code).toBe('IMAGE_ENTRY_MISSING');
    expect(error.message).toBe(
      'apps/checkout/overlays/staging/kustomization.yaml has no images: entry named checkout; add one with name, newName and newTag',
    );
    expect(failed).toMatchObject({ step: 'scan', env: 'staging' });
    await expectNothingPushedOrProposed();
  });

  it('reports an unreachable registry as upstream, after retries, having pushed nothing', async () => {
    const port = await freePort();

    const { error, failed, steps } = await refused(
      {},
      {
        registry: {
          host: `127.0.0.1:${port}`,
          insecure: true,
          retry: { attempts: 2, baseDelayMs: 10 },
        },
      },
    );

    expect(error.category).toBe('upstream');
    expect(error.message).toMatch(/registry 127\.0\.0\.1:\d+ is unreachable/);
    expect(failed.step).toBe('push');
    expect(steps.slice(-2)).toEqual(['scan:passed', 'push:failed']);
    await expectNothingPushedOrProposed();
  });

  it('stops when the broker refuses the pipeline key: unsigned, unproposed, lease revoked', async () => {
    const { privatePath } = keyPaths(fixture.ws.paths.keysDir, 'pipeline');
    chmodSync(privatePath, 0o644);
    try {
      const { error, failed, steps } = await refused({ sourceDir: await app() });

      expect(error.code).toBe('KEY_PERMISSIONS');
      expect(failed.step).toBe('sign');
      expect(steps.slice(-2)).toEqual(['push:passed', 'sign:failed']);
      expect(
        manifestsIn()
          .flatMap((m) => m.tags)
          .some((tag) => tag.endsWith('.sig')),
      ).toBe(false);
      await expect(fixture.forge.listProposals()).resolves.toEqual([]);
      const revoked = await fixture.ws.ledger.list({ kind: 'broker.lease.revoked' });
      const opened = await fixture.ws.ledger.list({ kind: 'broker.lease.opened' });
      expect(revoked.length).toBe(opened.length);
    } finally {
      chmodSync(privatePath, 0o600);
    }
  });
});

describe('deliver --allow-dirty', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
  });
  afterAll(() => fixture?.close());

  it('delivers an edited tree and records that it was dirty', async () => {
    writeFileSync(join(fixture.appDir, 'NOTES.md'), 'local edit\n');

    const result = await deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, allowDirty: true },
      fixture.deps(),
    );

    const entries = await fixture.ws.ledger.list({ subject: `run:${result.run}` });
    expect(evidenceOf(entries[0]!, 'delivery.started')).toMatchObject({ dirty: true });
    const build = entries
      .map((e) => evidenceOf(e, 'delivery.step'))
      .find((s) => s?.step === 'build');
    expect(build?.inputs).toMatchObject({ allowDirty: true, uncommittedChanges: ['NOTES.md'] });
  });

  it('delivers an image built elsewhere, skipping test and build', async () => {
    const built = await buildImage({
      contextDir: join(fixture.appDir, 'src'),
      tag: 'c'.repeat(40),
      source: { repository: 'https://git.example.test/checkout', commit: 'c'.repeat(40) },
    });
    const client = new RegistryClient({ registry: fixture.registry.host, insecure: true });
    await client.pushArtifact('ci/checkout', built.artifact, built.tag);
    const reference = `${fixture.registry.host}/ci/checkout@${built.digest}`;
    await commitAll(fixture.appDir, 'Notes');

    const result = await deliver(
      { service: 'checkout', env: 'staging', sourceDir: fixture.appDir, image: reference },
      fixture.deps(),
    );

    expect(result.digest).toBe(built.digest);
    expect(result.image).toBe(`${fixture.registry.host}/checkout@${built.digest}`);
    const steps = (await fixture.ws.ledger.list({ subject: `run:${result.run}` }))
      .flatMap((entry) => evidenceOf(entry, 'delivery.step') ?? [])
      .map((step) => `${step.step}:${step.status}`);
    expect(steps.slice(0, 3)).toEqual(['test:skipped', 'build:skipped', 'sbom:passed']);
  });
});
