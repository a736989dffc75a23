import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import { pullImage } from '../../src/delivery/registry-access.ts';
import type { DeliveryResult } from '../../src/delivery/types.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { git } from '../../src/gitops/git.ts';
import { openSshPublicKey } from '../../src/gitops/ssh-signature.ts';
import type { provenancePredicate } from '../../src/supply-chain/attest/predicates.ts';
import { verifyAttestations } from '../../src/supply-chain/attest/verify.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { verifyBundle } from '../../src/supply-chain/sign/verify-bundle.ts';
import { verifyClassicSignature } from '../../src/supply-chain/sign/verify-classic.ts';
import { deliveryFixture, type DeliveryFixture } from './helpers/setup.ts';

const run = promisify(execFile);

describe('deliver', () => {
  let fixture: DeliveryFixture;
  let result: DeliveryResult;
  let client: RegistryClient;
  let pipelineKey: string;

  beforeAll(async () => {
    fixture = await deliveryFixture();
    client = new RegistryClient({ registry: fixture.registry.host, insecure: true });
    pipelineKey = await fixture.ws.broker.publicKey('pipeline');
    result = await deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, junitFile: 'junit.xml' },
      fixture.deps(),
    );
  }, 60_000);
  afterAll(() => fixture?.close());

  it('pushes the image under the full commit SHA, and skopeo reads it with its labels', async () => {
    const commit = (await git(['rev-parse', 'HEAD'], { cwd: fixture.appDir })).trim();
    expect(result.tag).toBe(commit);
    expect(result.image).toBe(`${fixture.registry.host}/checkout@${result.digest}`);

    // Asynchronously: the registry answers from this process, so a blocking spawn would deadlock.
    const inspect = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      `docker://${fixture.registry.host}/checkout:${commit}`,
    ]);
    const seen = JSON.parse(inspect.stdout) as { Digest: string; Labels: Record<string, string> };
    expect(seen.Digest).toBe(result.digest);
    expect(seen.Labels['org.opencontainers.image.revision']).toBe(commit);
    expect(seen.Labels['org.opencontainers.image.source']).toBe(`file://${fixture.appDir}`);
  });

  it('signs the image with the pipeline key: cosign classic signature and Sigstore bundle', async () => {
    const signature = await pullImage(
      client,
      `${fixture.registry.host}/checkout:${result.signatureTag}`,
    );
    expect(verifyClassicSignature(signature, result.digest, pipelineKey)).toMatchObject({
      verified: true,
    });

    const referrer = await pullImage(
      client,
      `${fixture.registry.host}/checkout@${result.signatureBundle}`,
    );
    const bundleLayer = referrer.blobs[1]!;
    const bundle = JSON.parse(Buffer.from(bundleLayer.bytes).toString('utf8')) as unknown;
    expect(verifyBundle(bundle, result.digest, pipelineKey)).toMatchObject({ verified: true });
    const referrers = await client.referrers('checkout', result.digest);
    expect(referrers.map((d) => d.digest)).toContain(result.signatureBundle);
  });

  it('attests SLSA provenance, the SBOM and the scan result, all verifying', async () => {
    const attestations = await pullImage(
      client,
      `${fixture.registry.host}/checkout:${result.attestationTag}`,
    );
    const checks = verifyAttestations(attestations, result.digest, pipelineKey);

    expect(checks.map((check) => (check.verified ? 'ok' : check.reason))).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect(checks.map((check) => check.verified)).toEqual([true, true, true]);
    expect(checks.map((check) => check.predicateType)).toEqual([
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
      'https://cosign.sigstore.dev/attestation/vuln/v1',
    ]);
    const first = checks[0]!;
    const provenance = first.verified
      ? (first.statement.predicate as ReturnType<typeof provenancePredicate>)
      : undefined;
    expect(provenance?.buildDefinition.resolvedDependencies[0]!.digest.gitCommit).toBe(result.tag);
    expect(provenance?.runDetails.metadata.invocationId).toBe(result.run);
  });

  it('proposes a signed commit whose diff is the image entry of the overlay alone', async () => {
    const bare = fixture.ws.paths.configRepo;
    const branch = `deliver/checkout/dev/${result.tag.slice(0, 12)}`;
    expect(result.proposal.branch).toBe(branch);
    const proposal = await fixture.forge.getProposal(result.proposal.id);
    expect(proposal).toMatchObject({
      branch,
      headCommit: result.proposal.commit,
      author: 'pipeline',
      state: 'open',
      service: 'checkout',
      env: 'dev',
      routine: true,
      changedPaths: ['apps/checkout/overlays/dev/kustomization.yaml'],
      evidence: { artifact: result.image, sbomDigest: result.sbomDigest, scanVerdict: 'pass' },
    });

    const names = await git(['diff', '--name-only', `main..${branch}`], { cwd: bare });
    expect(names.trim()).toBe('apps/checkout/overlays/dev/kustomization.yaml');
    const diff = await git(['diff', '--unified=0', `main..${branch}`], { cwd: bare });
    const changed = diff.split('\n').filter((l) => /^[+-] /.test(l));
    expect(changed).toEqual([
      '-    newTag: unreleased',
      `+    newTag: ${result.tag}`,
      `+    digest: ${result.digest}`,
    ]);

    const description = proposal.description;
    for (const link of [
      result.digest,
      result.sbomDigest,
      result.signatureTag,
      result.attestationTag,
    ]) {
      expect(description).toContain(link);
    }
    expect(description).toContain('Scan verdict: **pass**');
  });

  it('signs the proposal commit so that git verify-commit accepts it', async () => {
    const clone = mkdtempSync(join(fixture.root, 'verify-'));
    await git(
      ['clone', '--quiet', '--branch', result.proposal.branch, fixture.ws.paths.configRepo, clone],
      {
        cwd: fixture.root,
      },
    );
    writeFileSync(
      join(clone, '.signers'),
      `pipeline@changeproof.local ${openSshPublicKey(pipelineKey)}\n`,
    );

    const verified = spawnSync(
      'git',
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        'gpg.ssh.allowedSignersFile=.signers',
        'verify-commit',
        'HEAD',
      ],
      {
        cwd: clone,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: clone, GIT_CONFIG_GLOBAL: '/dev/null' },
      },
    );
    expect(verified.stderr).toContain('Good "git" signature');
    expect(verified.status).toBe(0);
  });

  it('records every step, then the completion without cluster credentials and with the revoked lease', async () => {
    const entries = await fixture.ws.ledger.list({ subject: `run:${result.run}` });
    const steps = entries.flatMap((e) => evidenceOf(e, 'delivery.step') ?? []);

    expect(entries[0]!.kind).toBe('delivery.started');
    expect(steps.map((s) => [s.step, s.status])).toEqual(
      ['test', 'build', 'sbom', 'scan', 'push', 'sign', 'attest', 'propose'].map((s) => [
        s,
        'passed',
      ]),
    );
    expect(steps[0]!.outputs).toMatchObject({ exitCode: 0, junit: { tests: 2, failures: 0 } });
    expect(steps.find((s) => s.step === 'push')!.outputs.digest).toBe(result.digest);
    const completed = evidenceOf(entries.at(-1)!, 'delivery.completed');
    expect(completed).toMatchObject({
      image: result.image,
      proposal: result.proposal.id,
      clusterCredentialsHeld: false,
      leases: result.leases,
    });
    await expect(fixture.ws.broker.signer(result.leases[0]!, 'pipeline')).rejects.toMatchObject({
      code: 'LEASE_REVOKED',
    });
  });
});
