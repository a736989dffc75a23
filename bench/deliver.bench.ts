import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { changeManagementFor } from '../src/change/index.ts';
import { deliver } from '../src/delivery/pipeline.ts';
import { evidenceOf } from '../src/domain/evidence.ts';
import { openWorkspace } from '../src/workspace/context.ts';
import { initWorkspace } from '../src/workspace/init.ts';
import { commitAll, demoAppCheckout } from '../test/delivery/helpers/setup.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const imageBytes = 20 * 1024 * 1024;
const rounds = 5;
/** What the issue counts as deliver's own overhead: everything but the user's tests and build. */
const overheadSteps = new Set(['sbom', 'scan', 'push', 'sign', 'attest', 'propose']);

/**
 * Delivers the demo app with a 20 MB incompressible asset, a new commit each round so every
 * blob is really pushed, to the embedded registry running in its own process (as under
 * `changeproof up`), with a SQLite ledger and the embedded forge. The overhead is the sum of the
 * SBOM, scan, push, sign, attest and propose steps as the ledger timed them; the push step alone
 * is reported beside it, since moving the bytes is the floor no pipeline goes below.
 */
async function deliverOverhead(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'deliver-bench-'));
  await initWorkspace({ dir: join(root, 'ws'), name: 'deliver-bench' });
  const ws = await openWorkspace(join(root, 'ws'));
  const registry = await startRegistryProcess(ws.paths.registryDir, ws.config.registry.port);
  try {
    const appDir = await demoAppCheckout(join(root, 'app'));
    // The user's tests are not deliver's overhead; leaving the command out keeps rounds short.
    const config = {
      ...ws.config,
      services: { checkout: { ...ws.config.services.checkout!, test: undefined } },
    };
    const deps = {
      config,
      ledger: ws.ledger,
      broker: ws.broker,
      forge: changeManagementFor(ws).forge,
      registry: { host: `127.0.0.1:${ws.config.registry.port}`, insecure: true },
    };

    const overheads: number[] = [];
    const pushes: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      writeFileSync(join(appDir, 'asset.bin'), randomBytes(imageBytes));
      await commitAll(appDir, `Round ${round}`);
      const result = await deliver({ service: 'checkout', env: 'dev', sourceDir: appDir }, deps);
      const steps = (await ws.ledger.list({ kind: 'delivery.step', subject: `run:${result.run}` }))
        .map((entry) => evidenceOf(entry, 'delivery.step')!)
        .filter((step) => overheadSteps.has(step.step));
      // round 0 warms up (JIT, page cache, kustomize's binary) and is not counted
      if (round === 0) continue;
      overheads.push(steps.reduce((sum, step) => sum + step.durationMs, 0));
      pushes.push(steps.find((step) => step.step === 'push')!.durationMs);
    }

    const overhead = median(overheads);
    const push = median(pushes);
    return [
      {
        name: 'deliver overhead, 20 MB image (SBOM, scan, push, sign, attest, propose), median',
        value: Math.round(overhead),
        unit: 'ms',
        target: { value: 1500, better: 'lower' },
        peer: { name: 'push step alone', value: Math.round(push), unit: 'ms' },
        ratio: Math.round((overhead / push) * 100) / 100,
      },
    ];
  } finally {
    registry.kill('SIGTERM');
    if (registry.exitCode === null) await once(registry, 'exit');
    await ws.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The embedded registry in a child Node process on `port`; resolves once it listens. */
async function startRegistryProcess(dataDir: string, port: number): Promise<ChildProcess> {
  const entry = fileURLToPath(new URL('../src/embedded/registry/index.ts', import.meta.url));
  const script = [
    `import { startRegistry } from ${JSON.stringify(entry)};`,
    `await startRegistry({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} });`,
    "console.log('listening');",
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout!, 'data');
  return child;
}

export const benchmarks: Benchmark[] = [{ name: 'deliver overhead', run: deliverOverhead }];
