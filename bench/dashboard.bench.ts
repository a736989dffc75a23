import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { recordEvidence } from '../src/domain/evidence.ts';
import { LocalIdentity } from '../src/embedded/identity/index.ts';
import { createLogger } from '../src/log.ts';
import { startControlPlane } from '../src/server/control-plane.ts';
import { openWorkspace } from '../src/workspace/context.ts';
import { initWorkspace } from '../src/workspace/init.ts';
import { deployApp, launchChromium } from '../test/dashboard/fixtures.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const SERVICES = 200;
const ENVIRONMENTS = ['dev', 'qa', 'staging', 'prod'];

/** A workspace with four environments and one deployment of each of 200 services in each. */
async function seededWorkspace(root: string) {
  await initWorkspace({ dir: root, name: 'bench' });
  const file = join(root, 'changeproof.yaml');
  const config = parse(readFileSync(file, 'utf8'));
  config.environments.splice(1, 0, { name: 'qa', order: 1, cluster: 'sandbox-dev' });
  config.environments.forEach((env: { order: number }, i: number) => (env.order = i + 1));
  writeFileSync(file, stringify(config));
  const ws = await openWorkspace(root);
  const jobs = ENVIRONMENTS.flatMap((env) =>
    Array.from({ length: SERVICES }, (_, i) => ({
      env,
      service: `svc-${String(i).padStart(3, '0')}`,
      n: 1,
      seed: (i % 16).toString(16),
    })),
  );
  for (let i = 0; i < jobs.length; i += 100) {
    await Promise.all(jobs.slice(i, i + 100).map((job) => deployApp(ws.ledger, job)));
  }
  return ws;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'dashboard',
    async run(): Promise<BenchResult[]> {
      const root = mkdtempSync(join(tmpdir(), 'changeproof-bench-dashboard-'));
      const ws = await seededWorkspace(root);
      const plane = await startControlPlane(ws, {
        logger: createLogger({ level: 'silent' }),
        port: 0,
        checkpointIntervalMs: 0,
      });
      const url = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
      const { token } = await new LocalIdentity(ws.config, ws.store, ws.ledger).issue('erin');
      const browser = await launchChromium();
      try {
        // Peer: the matrix request alone, warm, as the page makes it.
        const api: number[] = [];
        for (let i = 0; i < 5; i++) {
          const start = performance.now();
          await (
            await fetch(`${url}/api/matrix`, { headers: { authorization: `Bearer ${token}` } })
          ).json();
          api.push(performance.now() - start);
        }

        const renders: number[] = [];
        for (let i = 0; i < 5; i++) {
          const page = await browser.newPage();
          await page.goto(`${url}/#token=${token}`);
          await page.waitForFunction(`performance.getEntriesByName('matrix-rendered').length > 0`);
          const cells = await page.locator('td[data-app]').count();
          if (cells < SERVICES * ENVIRONMENTS.length)
            throw new Error(`matrix shows ${cells} cells`);
          renders.push(
            await page.evaluate(`performance.getEntriesByName('matrix-rendered')[0].startTime`),
          );
          await page.close();
        }

        // A status change reaching an open page: a failed sync turns its cell to `failed`.
        const page = await browser.newPage();
        await page.goto(`${url}/#token=${token}`);
        await page.waitForSelector('[data-testid=live].on');
        await page.waitForFunction(`performance.getEntriesByName('matrix-rendered').length > 0`);
        const latencies: number[] = [];
        for (let i = 0; i < 10; i++) {
          const app = `prod/svc-${String(i).padStart(3, '0')}`;
          const start = performance.now();
          await recordEvidence(ws.ledger, 'sync.failed', `app:${app}`, 'cd-plane', {
            deployment: `${app}/2`,
            app,
            configCommit: 'f'.repeat(40),
            reason: 'bench: health check failed',
          });
          await page.waitForFunction(
            `document.querySelector('td[data-app="${app}"] [data-testid=sync]')?.textContent?.startsWith('failed')`,
            undefined,
            { polling: 'raf', timeout: 5000 },
          );
          latencies.push(performance.now() - start);
        }
        await page.close();
        return [
          {
            name: `matrix render after load (${SERVICES} services x ${ENVIRONMENTS.length} environments, median of 5)`,
            value: Math.round(median(renders)),
            unit: 'ms',
            target: { value: 1000, better: 'lower' },
            peer: {
              name: 'GET /api/matrix alone, warm',
              value: Math.round(median(api)),
              unit: 'ms',
            },
            ratio: median(renders) / median(api),
          },
          {
            name: 'status change to open page (SSE, median of 10)',
            value: Math.round(median(latencies)),
            unit: 'ms',
            target: { value: 1000, better: 'lower' },
            peer: { name: 'ledger head poll interval', value: 250, unit: 'ms' },
            ratio: median(latencies) / 250,
          },
          {
            name: 'status change to open page (SSE, worst of 10)',
            value: Math.round(Math.max(...latencies)),
            unit: 'ms',
            target: { value: 1000, better: 'lower' },
          },
        ];
      } finally {
        await browser.close();
        await plane.close();
        await ws.close();
        rmSync(root, { recursive: true, force: true });
      }
    },
  },
];
