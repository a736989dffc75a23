import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import type { IncidentSink } from '../../src/reconcile/ports.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * The incident system refusing while drift is answered: the detector reports the failure to
 * the engine's error handler and keeps running, instead of leaving a rejected promise that
 * would end the process.
 */
describe('drift when the incident system refuses', () => {
  let world: CdWorld;
  let engine: CdEngine;
  const errors: string[] = [];
  const refusing: IncidentSink = {
    open: () => Promise.reject(new Error('incident system refused the record')),
    resolve: () => Promise.reject(new Error('incident system refused the resolution')),
  };

  beforeAll(async () => {
    world = await startCdWorld();
    await world.commit(appFiles(await world.pushImage('v1')));
    engine = await world.startEngine({
      incidents: refusing,
      onError: (_error, context) => void errors.push(context),
    });
    await eventually(async () => engine.applications()[0]?.health === 'Healthy');
  }, 60_000);
  afterAll(() => world?.close());

  it('records the drift and reports the refusal to the error handler', async () => {
    const set = await kubectl(world.sandbox, [
      'set',
      'image',
      'deployment/checkout',
      'web=nginx:latest',
      '-n',
      'checkout-dev',
    ]);
    expect(set.code, set.stderr).toBe(0);

    await eventually(async () => (await world.ledger.list({ kind: 'drift.detected' })).length > 0);
    const reported = await eventually(async () =>
      errors.find((context) => context.includes('incident system refused the record')),
    );
    expect(reported).toMatch(/^drift check of Deployment\/checkout-dev\/checkout: /);
  });
});
