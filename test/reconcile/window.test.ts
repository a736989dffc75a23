import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import type { ChangeLifecycle } from '../../src/reconcile/ports.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/**
 * An environment that requires change windows: a merged change waits for its window. The hold is
 * recorded once, the engine keeps checking quietly, and the sync runs as soon as the window opens.
 */
describe('reconciler and change windows', () => {
  let world: CdWorld;
  let engine: CdEngine;
  let windowOpen = false;
  const succeeded: string[] = [];

  const lifecycle: ChangeLifecycle = {
    changeFor: async () => 'CHG0000042',
    withinWindow: async () => windowOpen,
    onSyncSucceeded: async (change) => void succeeded.push(change),
    onSyncFailed: async () => undefined,
  };

  beforeAll(async () => {
    world = await startCdWorld();
    const signed = await world.pushImage('v1');
    await world.commit(appFiles(signed));
    engine = await world.startEngine({
      environments: [world.environment('dev', { requireWindow: true, syncTimeout: '5s' })],
      lifecycle,
    });
  }, 60_000);
  afterAll(() => world?.close());

  it('holds the sync outside the window, recording the hold once', async () => {
    const refused = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries.length > 0 && entries;
    });
    expect(evidenceOf(refused[0]!, 'sync.refused')).toMatchObject({ code: 'OUTSIDE_WINDOW' });
    await engine.syncNow();
    await engine.syncNow();
    expect(await world.ledger.list({ kind: 'sync.refused' })).toHaveLength(1);
    expect(await world.ledger.list({ kind: 'sync.started' })).toHaveLength(0);
  });

  it('syncs once the window opens', async () => {
    windowOpen = true;
    await engine.syncNow();
    const completed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.completed' });
      return entries.length > 0 && evidenceOf(entries[0]!, 'sync.completed');
    });
    expect(completed).toMatchObject({ app: 'dev/checkout', change: 'CHG0000042' });
    await eventually(async () => succeeded.includes('CHG0000042'));
  });
});
