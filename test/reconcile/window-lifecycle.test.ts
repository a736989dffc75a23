import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import type { OpenChangeRequest } from '../../src/domain/change-system.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import type { ChangeLifecycle } from '../../src/reconcile/ports.ts';
import { workspaceLifecycle } from '../../src/reconcile/workspace-engine.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * The change-window check of the workspace's own change management (workspaceLifecycle), not a
 * stand-in: planned windows from the change records, emergencies exempt, and a commit without a
 * change record held (fail closed) where the environment requires windows.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-window-'));
let ws: WorkspaceContext;
const hour = 3_600_000;

async function openChange(overrides: Partial<OpenChangeRequest>): Promise<string> {
  const change = await changeManagementFor(ws).context.changeSystem.open({
    type: 'normal',
    proposal: `proposal-${Math.random()}`,
    service: 'checkout',
    env: 'dev',
    shortDescription: 'test change',
    description: 'a change for the window test',
    cabRequired: false,
    ...overrides,
  });
  return change.number;
}

const window = (fromHours: number, toHours: number) => ({
  plannedStart: new Date(Date.now() + fromHours * hour).toISOString(),
  plannedEnd: new Date(Date.now() + toHours * hour).toISOString(),
});

beforeAll(async () => {
  await initWorkspace({ dir: join(root, 'ws'), name: 'window' });
  ws = await openWorkspace(join(root, 'ws'));
});

afterAll(async () => {
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('workspaceLifecycle change windows', () => {
  it('answers from the change record: open window, past window, no window, emergency', async () => {
    const lifecycle = workspaceLifecycle(ws);
    const now = new Date();

    const open = await openChange(window(-1, 1));
    const past = await openChange(window(-3, -2));
    const unplanned = await openChange({});
    const emergency = await openChange({ type: 'emergency' });

    expect(await lifecycle.withinWindow!(open, now)).toBe(true);
    expect(await lifecycle.withinWindow!(past, now)).toBe(false);
    expect(await lifecycle.withinWindow!(unplanned, now)).toBe(false);
    expect(await lifecycle.withinWindow!(emergency, now)).toBe(true);
  });
});

describe('a sync in an environment that requires windows', () => {
  let world: CdWorld;
  let engine: CdEngine;
  const changes = new Map<string, string>();

  beforeAll(async () => {
    world = await startCdWorld();
    const lifecycle: ChangeLifecycle = {
      ...workspaceLifecycle(ws),
      // The commits of this world's config repo, mapped to change records of the workspace.
      changeFor: async (commit) => changes.get(commit),
    };
    engine = await world.startEngine({
      environments: [world.environment('dev', { requireWindow: true, syncTimeout: '5s' })],
      lifecycle,
    });
  }, 60_000);
  afterAll(() => world?.close());

  const refusalOf = (commit: string) =>
    eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.refused' });
      return entries
        .map((e) => evidenceOf(e, 'sync.refused')!)
        .find((p) => p.configCommit === commit);
    });

  it('holds a commit no change record approved', async () => {
    const commit = await world.commit(appFiles(await world.pushImage('window-v1')));
    engine.notifyMerged();

    const refused = await refusalOf(commit);

    expect(refused.code).toBe('NO_CHANGE_RECORD');
    expect(await world.ledger.list({ kind: 'sync.started' })).toHaveLength(0);
  });

  it('holds a normal change outside its window', async () => {
    const commit = await world.commit(appFiles(await world.pushImage('window-v2')));
    changes.set(commit, await openChange(window(2, 3)));
    engine.notifyMerged();

    const refused = await refusalOf(commit);

    expect(refused.code).toBe('OUTSIDE_WINDOW');
    expect(await world.ledger.list({ kind: 'sync.started' })).toHaveLength(0);
  });

  it('syncs an emergency change at once, whatever its window', async () => {
    const commit = await world.commit(appFiles(await world.pushImage('window-v3')));
    const emergency = await openChange({ type: 'emergency', ...window(2, 3) });
    changes.set(commit, emergency);
    engine.notifyMerged();

    const completed = await eventually(async () => {
      const entries = await world.ledger.list({ kind: 'sync.completed' });
      return entries
        .map((e) => evidenceOf(e, 'sync.completed')!)
        .find((p) => p.configCommit === commit);
    }, 20_000);

    expect(completed.change).toBe(emergency);
  });
});
