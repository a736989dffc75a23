import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealWorkspaceLedger } from '../../src/workspace/checkpoint.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';

describe('sealWorkspaceLedger', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-seal-'));
  let ws: WorkspaceContext;

  beforeAll(async () => {
    await initWorkspace({ dir: join(root, 'ws') });
    ws = await openWorkspace(join(root, 'ws'));
  });
  afterAll(async () => {
    await ws.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('seals nothing on an empty ledger', async () => {
    expect(await sealWorkspaceLedger(ws)).toBeUndefined();
    expect(await ws.ledger.head()).toBeUndefined();
  });

  it('seals new evidence, and an idle ledger does not grow by sealing itself', async () => {
    await ws.ledger.append({ kind: 'test.event', subject: 's', actor: 'a', payload: {} });
    const first = await sealWorkspaceLedger(ws);
    expect(first?.treeSize).toBe(2); // the event and the sealer's lease opening
    const headAfterFirst = (await ws.ledger.head())!.seq;
    const again = await sealWorkspaceLedger(ws);
    expect(again).toEqual(first);
    expect((await ws.ledger.head())!.seq).toBe(headAfterFirst);

    await ws.ledger.append({ kind: 'test.event', subject: 's', actor: 'a', payload: {} });
    const next = await sealWorkspaceLedger(ws);
    expect(next!.treeSize).toBeGreaterThan(first!.treeSize);
  });
});
