import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { InTotoPayloadType } from '../../src/supply-chain/attest/statement.ts';
import { verifyEnvelope, type DsseEnvelope } from '../../src/supply-chain/dsse.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

const detectOnly = {
  'apps/cart/overlays/dev/application.yaml': 'selfHeal: false\n',
};

describe('drift, self-heal and verification', () => {
  let world: CdWorld;
  let engine: CdEngine;
  let signed: string;

  beforeAll(async () => {
    world = await startCdWorld();
    signed = await world.pushImage('v1');
    await world.commit({
      ...appFiles(signed),
      ...appFiles(signed, { service: 'cart', extra: detectOnly }),
    });
    engine = await world.startEngine();
    await eventually(
      async () =>
        engine.applications().every((a) => a.health === 'Healthy') &&
        engine.applications().length === 2,
    );
  }, 60_000);
  afterAll(() => world?.close());

  const imageOf = async (service: string) =>
    (
      await kubectl(world.sandbox, [
        'get',
        'deployment',
        service,
        '-n',
        `${service}-dev`,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ])
    ).stdout;

  const driftsOf = async (app: string) =>
    (await world.ledger.list({ kind: 'drift.detected', subject: `app:${app}` })).map((e) =>
      evidenceOf(e, 'drift.detected')!,
    );

  it('records kubectl set image as drift with the field manager, opens an incident and reverts it', async () => {
    const set = await kubectl(world.sandbox, [
      'set',
      'image',
      'deployment/checkout',
      'web=nginx:latest',
      '-n',
      'checkout-dev',
    ]);
    expect(set.code).toBe(0);

    const [drift] = await eventually(async () => {
      const found = await driftsOf('dev/checkout');
      return found.length > 0 && found;
    });
    expect(drift).toMatchObject({
      object: 'Deployment/checkout-dev/checkout',
      fieldManager: 'kubectl-set',
      action: 'reverted',
      fields: ['/spec/template/spec/containers/0/image'],
    });
    expect(drift!.diff).toContain('nginx:latest');
    await eventually(async () => (await imageOf('checkout')) === signed);
    await eventually(async () => (await world.ledger.list({ kind: 'drift.reverted' })).length > 0);
    const opened = await world.ledger.list({ kind: 'incident.opened' });
    expect(opened.map((e) => evidenceOf(e, 'incident.opened')!)).toContainEqual(
      expect.objectContaining({ app: 'dev/checkout', cause: 'drift' }),
    );
    await eventually(
      async () => (await world.ledger.list({ kind: 'incident.resolved' })).length > 0,
    );
  });

  it('only records drift where self-heal is off, and verification seals the difference', async () => {
    await kubectl(world.sandbox, [
      'set',
      'image',
      'deployment/cart',
      'web=nginx:1.27',
      '-n',
      'cart-dev',
    ]);
    const [drift] = await eventually(async () => {
      const found = await driftsOf('dev/cart');
      return found.length > 0 && found;
    });
    expect(drift!.action).toBe('detect-only');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await imageOf('cart')).toBe('nginx:1.27');

    const results = await engine.verify('dev');
    const byApp = new Map(results.map((r) => [r.app, r]));
    expect(byApp.get('dev/checkout')!.equal).toBe(true);
    expect(byApp.get('dev/cart')!.equal).toBe(false);

    const sealed = (await world.ledger.list({ kind: 'verification.sealed' })).map((e) =>
      evidenceOf(e, 'verification.sealed')!,
    );
    const checkout = sealed.find((p) => p.app === 'dev/checkout')!;
    const envelope = checkout.attestation as unknown as DsseEnvelope;
    expect(envelope.payloadType).toBe(InTotoPayloadType);
    expect(verifyEnvelope(envelope, world.controlPlane.publicKeyPem)).toBe(true);
    expect(verifyEnvelope(envelope, world.pipeline.publicKeyPem)).toBe(false);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicate).toMatchObject({
      app: 'dev/checkout',
      desiredDigest: checkout.desiredDigest,
      liveDigest: checkout.desiredDigest,
      equal: true,
    });
    expect(statement.subject[0].digest.sha256).toBe(checkout.desiredDigest.slice('sha256:'.length));
  });

  it('redacts Secret values in drift diffs', async () => {
    const files = appFiles(signed, {
      extra: {
        'apps/checkout/base/secret.yaml':
          'apiVersion: v1\nkind: Secret\nmetadata: { name: db }\nstringData: { password: hunter2 }\n',
        'apps/checkout/base/kustomization.yaml':
          'resources:\n  - deployment.yaml\n  - service.yaml\n  - secret.yaml\n',
      },
    });
    await world.commit({ ...files, ...appFiles(signed, { service: 'cart', extra: detectOnly }) });
    engine.notifyMerged();
    await eventually(
      async () =>
        (await kubectl(world.sandbox, ['get', 'secret', 'db', '-n', 'checkout-dev'])).code === 0,
    );
    await eventually(
      async () => engine.applications().find((a) => a.app === 'dev/checkout')?.health === 'Healthy',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    await kubectl(world.sandbox, [
      'patch',
      'secret',
      'db',
      '-n',
      'checkout-dev',
      '-p',
      '{"stringData":{"password":"s3cret-leak"}}',
    ]);
    const drift = await eventually(async () =>
      (await driftsOf('dev/checkout')).find((d) => d.object === 'Secret/checkout-dev/db'),
    );
    expect(drift.diff).not.toContain('s3cret-leak');
    expect(drift.diff).not.toContain('hunter2');
    expect(drift.diff).toContain('<redacted>');
  });
});
