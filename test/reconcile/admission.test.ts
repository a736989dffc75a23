import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kyvernoPolicy, policyControllerPolicy } from '../../src/reconcile/admission/policies.ts';
import {
  startAdmissionWebhook,
  webhookConfiguration,
  type RunningWebhook,
} from '../../src/reconcile/admission/webhook.ts';
import {
  defaultRequiredPredicates,
  ImageVerifier,
} from '../../src/reconcile/image-verification.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { startCdWorld, type CdWorld } from './fixtures.ts';

describe('admission webhook', () => {
  let world: CdWorld;
  let webhook: RunningWebhook;
  let silent: Server;

  beforeAll(async () => {
    world = await startCdWorld();
    const verifier = new ImageVerifier({
      publicKeys: [world.pipeline.publicKeyPem],
      requiredPredicates: defaultRequiredPredicates,
    });
    webhook = await startAdmissionWebhook({ verifier });
    silent = createServer(() => undefined); // accepts and never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  }, 60_000);
  afterAll(async () => {
    await webhook?.close();
    silent?.closeAllConnections();
    silent?.close();
    await world?.close();
  });

  const register = async (url: string, timeoutSeconds = 5) => {
    const file = join(world.dir, `webhook-${Date.now()}.yaml`);
    writeFileSync(file, stringify(webhookConfiguration({ url, timeoutSeconds })));
    const applied = await kubectl(world.sandbox, ['apply', '-f', file]);
    expect(applied.code).toBe(0);
  };

  it('admits a signed pod and refuses an unsigned or tag-only one, through kubectl', async () => {
    await register(webhook.url);
    const signed = await world.pushImage('admit');
    const unsigned = await world.pushImage('no-sig', { sign: false });

    expect((await kubectl(world.sandbox, ['run', 'ok', `--image=${signed}`])).code).toBe(0);
    const refused = await kubectl(world.sandbox, ['run', 'bad', `--image=${unsigned}`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('denied the request');
    expect(refused.stderr).toContain('has no signature');
    const tagged = await kubectl(world.sandbox, ['run', 'tagged', '--image=nginx:latest']);
    expect(tagged.stderr).toContain('is not pinned by digest');
  });

  it('fails closed when the webhook times out', async () => {
    const { port } = silent.address() as AddressInfo;
    await register(`http://127.0.0.1:${port}/validate`, 1);
    const signed = await world.pushImage('timeout');
    const result = await kubectl(world.sandbox, ['run', 'late', `--image=${signed}`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/context deadline exceeded|failed calling webhook/);
    expect((await kubectl(world.sandbox, ['get', 'pod', 'late'])).code).not.toBe(0);
  });
});

describe('generated admission policies', () => {
  const input = {
    images: ['registry.example.com/shop/*'],
    publicKeys: ['-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n'],
  };

  it('writes a Kyverno ClusterPolicy that enforces key-based cosign signatures and attestations', () => {
    const policy = kyvernoPolicy(input) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(policy).toMatchObject({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy' });
    const rule = policy.spec.rules[0].verifyImages[0];
    expect(rule).toMatchObject({
      type: 'Cosign',
      failureAction: 'Enforce',
      mutateDigest: true,
      verifyDigest: true,
      required: true,
    });
    expect(rule.imageReferences).toEqual(input.images);
    expect(rule.attestors[0].entries[0].keys).toMatchObject({
      publicKeys: input.publicKeys[0],
      rekor: { ignoreTlog: true },
      ctlog: { ignoreSCT: true },
    });
    expect(rule.attestations.map((a: { type: string }) => a.type)).toEqual(
      defaultRequiredPredicates,
    );
  });

  it('writes a policy-controller ClusterImagePolicy with legacy signatures', () => {
    const policy = policyControllerPolicy(input) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(policy).toMatchObject({
      apiVersion: 'policy.sigstore.dev/v1beta1',
      kind: 'ClusterImagePolicy',
    });
    expect(policy.spec.images).toEqual([{ glob: input.images[0] }]);
    expect(policy.spec.authorities[0]).toMatchObject({
      key: { data: input.publicKeys[0] },
      signatureFormat: 'legacy',
    });
  });
});
