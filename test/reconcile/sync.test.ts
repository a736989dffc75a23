import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

describe('reconciler sync', () => {
  let world: CdWorld;
  let engine: CdEngine;
  let signed: string;

  beforeAll(async () => {
    world = await startCdWorld();
    signed = await world.pushImage('v1');
    await world.commit(appFiles(signed));
    engine = await world.startEngine();
  }, 60_000);
  afterAll(() => world?.close());

  const liveImage = async () => {
    const result = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    return result.stdout;
  };

  it('syncs a signed, attested image to Synced and Healthy and records the deployment', async () => {
    const completed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.completed' });
      return entries.length > 0 && evidenceOf(entries[0]!, 'sync.completed');
    });
    expect(completed.app).toBe('dev/checkout');
    expect(completed.images).toEqual([
      expect.objectContaining({ name: signed, digest: signed.split('@')[1] }),
    ]);
    expect(completed.liveDigest).toBe(completed.desiredDigest);
    expect(completed.health).toBe('Healthy');
    expect(engine.applications()).toEqual([
      expect.objectContaining({ app: 'dev/checkout', sync: 'Synced', health: 'Healthy' }),
    ]);

    expect(await liveImage()).toBe(signed);
    const labels = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '-o',
      'jsonpath={.metadata.labels}',
    ]);
    expect(JSON.parse(labels.stdout)).toMatchObject({
      'app.kubernetes.io/managed-by': 'changeproof',
      'changeproof.dev/app': 'dev.checkout',
    });
    const managers = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '--show-managed-fields',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managers.stdout).toContain('changeproof');
  });

  it.each([
    ['an unsigned image', { sign: false }, 'has no signature'],
    ['an image without attestations', { attest: false }, 'lacks a verified attestation'],
  ])('refuses the whole sync for %s and applies nothing', async (_name, flags, reason) => {
    const image = await world.pushImage(`bad-${JSON.stringify(flags).length}${Date.now()}`, flags);
    const commit = await world.commit(
      appFiles(image, {
        extra: {
          'apps/checkout/base/config.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: extra-${Date.now()} }\ndata: { a: b }\n`,
        },
      }),
    );
    engine.notifyMerged();
    const refused = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries
        .map((e) => evidenceOf(e, 'sync.refused')!)
        .find((p) => p.configCommit === commit);
    });
    expect(refused.code).toBe('IMAGE_UNTRUSTED');
    expect(refused.reason).toContain(reason);
    expect(refused.images).toContain(image);
    expect(await liveImage()).toBe(signed);
    const configMaps = await kubectl(world.sandbox, [
      'get',
      'configmaps',
      '-n',
      'checkout-dev',
      '-o',
      'name',
    ]);
    expect(configMaps.stdout).not.toContain('extra-');
  });

  it('refuses an image referenced by tag only', async () => {
    const tagOnly = signed.split('@')[0]!.concat(':v1');
    const commit = await world.commit(appFiles(tagOnly));
    engine.notifyMerged();
    const refused = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries
        .map((e) => evidenceOf(e, 'sync.refused')!)
        .find((p) => p.configCommit === commit);
    });
    expect(refused.reason).toContain('is not pinned by digest');
    expect(await liveImage()).toBe(signed);
  });

  it.each([
    [
      'manifests that do not render',
      { 'apps/checkout/base/kustomization.yaml': 'resources:\n  - missing.yaml\n' },
      'RENDER_FAILED',
    ],
    [
      'an unknown kind',
      {
        'apps/checkout/base/widget.yaml':
          'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n',
      },
      'UNKNOWN_KIND',
    ],
  ])('refuses %s with a clear reason', async (_name, extra, code) => {
    const files = appFiles(signed);
    if ('apps/checkout/base/widget.yaml' in extra)
      files['apps/checkout/base/kustomization.yaml'] =
        'resources:\n  - deployment.yaml\n  - service.yaml\n  - widget.yaml\n';
    const commit = await world.commit({ ...files, ...extra });
    engine.notifyMerged();
    const refused = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries
        .map((e) => evidenceOf(e, 'sync.refused')!)
        .find((p) => p.configCommit === commit);
    });
    expect(refused.code).toBe(code);
    expect(refused.reason.length).toBeGreaterThan(10);
  });

  it('refuses namespaced objects without a namespace', async () => {
    const files = appFiles(signed);
    files['apps/checkout/overlays/dev/kustomization.yaml'] = files[
      'apps/checkout/overlays/dev/kustomization.yaml'
    ]!.replace(/^namespace: .*\n/, '');
    const commit = await world.commit(files);
    engine.notifyMerged();
    const refused = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries
        .map((e) => evidenceOf(e, 'sync.refused')!)
        .find((p) => p.configCommit === commit);
    });
    expect(refused.code).toBe('NAMESPACE_REQUIRED');
  });

  it('prunes objects Git no longer has, and picks up a new application without another step', async () => {
    const next = await world.pushImage('v2');
    await world.commit({
      ...appFiles(next, {
        extra: {
          'apps/checkout/base/settings.yaml':
            'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { mode: a }\n',
        },
      }),
      'apps/checkout/base/kustomization.yaml':
        'resources:\n  - deployment.yaml\n  - service.yaml\n  - settings.yaml\n',
    });
    engine.notifyMerged();
    await eventually(async () => (await liveImage()) === next);
    await eventually(
      async () =>
        (await kubectl(world.sandbox, ['get', 'configmap', 'settings', '-n', 'checkout-dev']))
          .code === 0,
    );

    await world.commit({ ...appFiles(next, { service: 'cart' }), ...appFiles(next) }, [
      'apps/checkout/base/settings.yaml',
    ]);
    engine.notifyMerged();
    await eventually(
      async () =>
        (await kubectl(world.sandbox, ['get', 'configmap', 'settings', '-n', 'checkout-dev']))
          .code !== 0,
    );
    await eventually(async () =>
      engine.applications().some((a) => a.app === 'dev/cart' && a.health === 'Healthy'),
    );
  });
});
