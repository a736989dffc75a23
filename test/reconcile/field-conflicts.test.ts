import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * Another field manager (here `rollout-tuner`, through the real kubectl) owns a field that Git
 * starts to set with another value. The sync does not take it over silently: it fails naming the
 * field and the manager, writes nothing, and goes ahead once the application's ignoreDifferences
 * in the config repo hands that manager's fields over.
 */
describe('sync against a conflicting field manager', () => {
  let world: CdWorld;
  let engine: CdEngine;
  let first: string;
  let second: string;

  const deploymentField = async (jsonpath: string) =>
    (
      await kubectl(world.sandbox, [
        'get',
        'deployment',
        'checkout',
        '-n',
        'checkout-dev',
        '-o',
        `jsonpath={${jsonpath}}`,
      ])
    ).stdout;

  /** appFiles with `revisionHistoryLimit: 5` set by Git in the Deployment. */
  const filesSettingHistory = (image: string, extra: Record<string, string> = {}) => {
    const files = appFiles(image, { extra });
    const path = 'apps/checkout/base/deployment.yaml';
    files[path] = files[path]!.replace('spec:\n', 'spec:\n  revisionHistoryLimit: 5\n');
    return files;
  };

  const entryFor = async <K extends 'sync.failed' | 'sync.completed'>(kind: K, commit: string) =>
    eventually(async () => {
      const entries = await world.ledger.list({ kind });
      return entries.map((e) => evidenceOf(e, kind)!).find((p) => p.configCommit === commit);
    }, 20_000);

  beforeAll(async () => {
    world = await startCdWorld();
    first = await world.pushImage('conflict-v1');
    second = await world.pushImage('conflict-v2');
    const commit = await world.commit(appFiles(first));
    engine = await world.startEngine();
    await entryFor('sync.completed', commit);
    const patched = await kubectl(world.sandbox, [
      'patch',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '--type',
      'merge',
      '--field-manager',
      'rollout-tuner',
      '-p',
      '{"spec":{"revisionHistoryLimit":3}}',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
  }, 60_000);
  afterAll(() => world?.close());

  it('fails the sync naming the field and its manager, and applies nothing', async () => {
    const commit = await world.commit(filesSettingHistory(second));
    engine.notifyMerged();

    const failed = await entryFor('sync.failed', commit);

    expect(failed.reason).toContain('conflicting field managers');
    expect(failed.reason).toContain('Deployment/checkout-dev/checkout /spec/revisionHistoryLimit');
    expect(failed.reason).toContain('owned by rollout-tuner');
    expect(await deploymentField('.spec.template.spec.containers[0].image')).toBe(first);
    expect(await deploymentField('.spec.revisionHistoryLimit')).toBe('3');
    const completed = await world.ledger.list({ kind: 'sync.completed' });
    expect(completed.map((e) => evidenceOf(e, 'sync.completed')!.configCommit)).not.toContain(
      commit,
    );
  });

  it('takes the field over once ignoreDifferences in the config repo hands it over', async () => {
    const settings = [
      'ignoreDifferences:',
      '  - kind: Deployment',
      '    managedFieldsManagers: [rollout-tuner]',
      '',
    ].join('\n');
    const commit = await world.commit(
      filesSettingHistory(second, { 'apps/checkout/overlays/dev/application.yaml': settings }),
    );
    engine.notifyMerged();

    const completed = await entryFor('sync.completed', commit);

    expect(completed.health).toBe('Healthy');
    expect(await deploymentField('.spec.template.spec.containers[0].image')).toBe(second);
  });
});
