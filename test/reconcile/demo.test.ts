import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demonstrateCdPlane } from '../../src/reconcile/demo.ts';
import { appFiles, startCdWorld, type CdWorld } from './fixtures.ts';

describe('the CD plane demo', () => {
  let world: CdWorld;
  beforeAll(async () => {
    world = await startCdWorld();
  }, 60_000);
  afterAll(() => world?.close());

  it('syncs, shows kubectl drift with an incident and its revert, and seals a verification', async () => {
    await world.commit(appFiles(await world.pushImage('demo')));
    const engine = await world.startEngine();
    const lines: string[] = [];
    const result = await demonstrateCdPlane({
      engine,
      ledger: world.ledger,
      kubeconfig: world.sandbox.kubeconfig,
      env: 'dev',
      service: 'checkout',
      report: (line) => lines.push(line),
    });
    expect(result.drift.fieldManager).toBe('kubectl-set');
    expect(result.drift.action).toBe('reverted');
    expect(result.verification?.equal).toBe(true);
    expect(lines.join('\n')).toMatch(
      /synced dev\/checkout[\s\S]*drift recorded[\s\S]*incident[\s\S]*reverted[\s\S]*verification sealed/,
    );
  });
});
