import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import type { CdEngine } from '../../src/reconcile/engine.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * Someone keeps rewriting the same Deployment by hand. Self-heal reverts every time, but waits
 * longer before each repeat (exponential backoff from firstDelayMs), and raises one flapping
 * alert once the object has been reverted flappingAfter times within the window.
 */
const selfHeal = { firstDelayMs: 300, maxDelayMs: 10_000, flappingAfter: 3, windowMs: 60_000 };

describe('self-heal of an object that keeps being rewritten', () => {
  let world: CdWorld;
  let engine: CdEngine;

  beforeAll(async () => {
    world = await startCdWorld();
    await world.commit(appFiles(await world.pushImage('flapping-v1')));
    engine = await world.startEngine({ selfHeal });
    await eventually(async () => engine.applications()[0]?.health === 'Healthy');
  }, 60_000);
  afterAll(() => world?.close());

  const entries = (kind: 'drift.detected' | 'drift.reverted') =>
    world.ledger.list({ kind, subject: 'app:dev/checkout' });

  /** Rewrites the image by hand and waits for the n-th revert; returns detection and revert. */
  async function rewriteAndWait(n: number): Promise<[LedgerEntry, LedgerEntry]> {
    const set = await kubectl(world.sandbox, [
      'set',
      'image',
      'deployment/checkout',
      `web=nginx:1.${n}`,
      '-n',
      'checkout-dev',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const reverted = await eventually(async () => {
      const found = await entries('drift.reverted');
      return found.length >= n && found[n - 1];
    }, 20_000);
    return [(await entries('drift.detected'))[n - 1]!, reverted];
  }

  it('backs off between reverts and raises one flapping alert', async () => {
    const gaps: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const [detected, reverted] = await rewriteAndWait(n);
      gaps.push(Date.parse(reverted.time) - Date.parse(detected.time));
    }

    // The first revert is immediate; then 300, 600, 1200, 2400 ms at least (timer granularity).
    for (const [index, delay] of [0, 300, 600, 1200, 2400].entries())
      expect(gaps[index]).toBeGreaterThanOrEqual(delay - 5);
    const incidents = (await world.ledger.list({ kind: 'incident.opened' })).map((entry) =>
      evidenceOf(entry, 'incident.opened')!,
    );
    const flapping = incidents.filter((incident) => incident.link.startsWith('flapping:'));
    expect(flapping).toHaveLength(1);
    expect(flapping[0]!.link).toBe('flapping:dev/checkout/Deployment/checkout-dev/checkout');
  }, 60_000);
});
