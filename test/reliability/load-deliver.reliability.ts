import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import {
  deliveryFixture,
  demoAppCheckout,
  type DeliveryFixture,
} from '../delivery/helpers/setup.ts';
import { figures, mib, ms, percentile, report } from './support/row.ts';

const DELIVERIES = Number(process.env.CHANGEPROOF_RELIABILITY_DELIVERIES ?? 50);

describe('load: concurrent deliveries', () => {
  let fixture: DeliveryFixture;
  const checkouts: string[] = [];
  beforeAll(async () => {
    fixture = await deliveryFixture();
    // One checkout per delivery, each at its own source commit: fifty different images.
    for (let n = 0; n < DELIVERIES; n += 1) {
      const dir = await demoAppCheckout(join(fixture.root, `app-${n}`));
      await git(
        [
          ...identityArgs('Dev', 'dev@example.test'),
          'commit',
          '-q',
          '--allow-empty',
          '-m',
          `build ${n}`,
        ],
        {
          cwd: dir,
        },
      );
      checkouts.push(dir);
    }
  }, 120_000);
  afterAll(() => fixture?.close());

  it(`runs ${DELIVERIES} deliveries at once, each pushed, signed, proposed and recorded once`, async (context) => {
    report(context, {
      area: 'Load',
      tried: `${DELIVERIES} concurrent deliveries (test, build, SBOM, scan, push, sign, attest, propose) of different commits`,
    });
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);
    const latencies: number[] = [];
    const started = performance.now();
    const results = await Promise.allSettled(
      checkouts.map(async (sourceDir) => {
        const begin = performance.now();
        const result = await deliver(
          { service: 'checkout', env: 'dev', sourceDir, junitFile: 'junit.xml' },
          fixture.deps(),
        );
        latencies.push(performance.now() - begin);
        return result;
      }),
    );
    const wall = performance.now() - started;
    clearInterval(sampler);

    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [String(r.reason).slice(0, 160)] : [],
    );
    const completed = await fixture.ws.ledger.list({ kind: 'delivery.completed' });
    figures(context, {
      delivered: results.length - failed.length,
      failed: failed.length,
      'wall time': `${(wall / 1000).toFixed(1)} s`,
      p50: ms(percentile(latencies, 50)),
      p99: ms(percentile(latencies, 99)),
      'peak RSS': mib(Math.max(...rss)),
      'first failure': failed[0] ?? 'none',
    });
    expect(failed).toEqual([]);
    expect(completed).toHaveLength(DELIVERIES);
    const images = new Set(results.map((r) => (r.status === 'fulfilled' ? r.value.image : '')));
    expect(images.size).toBe(DELIVERIES);
    expect(Math.max(...rss)).toBeLessThan(2048 * 1024 * 1024);
  });
});
