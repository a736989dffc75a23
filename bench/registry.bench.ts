import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RegistryClient } from '../src/supply-chain/oci/client.ts';
import { buildTestImage, writeOciLayout } from '../test/registry/fixtures.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const imageBytes = 20 * 1024 * 1024;
const rounds = 7;

/**
 * Pushes the same 20 MB image (one incompressible layer) to the embedded registry with
 * changeproof's client and with `skopeo copy` from an OCI layout, alternating, each round into
 * fresh content so every blob is really uploaded. Throughput is image size over the median
 * wall time of a push; skopeo's time includes starting its process, as a pipeline would pay it.
 * The registry runs in its own process, as under `changeproof up`, so neither pusher shares
 * an event loop with it.
 */
async function pushThroughput(): Promise<BenchResult[]> {
  const workspace = mkdtempSync(join(tmpdir(), 'registry-bench-'));
  const { registry, child } = await startRegistryProcess(join(workspace, 'data'));
  try {
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    const skopeo = (layout: string) =>
      promisify(execFile)('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${layout}:bench`,
        `docker://${registry.host}/bench/skopeo:${basename(layout)}`,
      ]);

    // Fresh random layers for every push: with content the registry already holds, skopeo's
    // blob-info cache turns the upload into a cross-repository mount and measures nothing.
    // Everything is prepared before timing so that no disk write or allocation overlaps a push.
    const inputs = Array.from({ length: rounds + 1 }, (_, round) => {
      const layout = join(workspace, `round-${round}`);
      writeOciLayout(layout, buildTestImage(imageBytes), 'bench');
      return { image: buildTestImage(imageBytes), layout, tag: `round-${round}` };
    });
    await promisify(execFile)('sync');

    const clientTimes: number[] = [];
    const skopeoTimes: number[] = [];
    for (const [round, input] of inputs.entries()) {
      const pushWithClient = () =>
        timed(() => client.pushArtifact('bench/client', input.image, input.tag));
      const pushWithSkopeo = () => timed(() => skopeo(input.layout));
      // alternate who goes first, so neither always pushes into a warmer registry
      let clientTime: number;
      let skopeoTime: number;
      if (round % 2 === 0) {
        clientTime = await pushWithClient();
        skopeoTime = await pushWithSkopeo();
      } else {
        skopeoTime = await pushWithSkopeo();
        clientTime = await pushWithClient();
      }
      // round 0 warms up (JIT, page cache, skopeo's binary) and is not counted
      if (round > 0) {
        clientTimes.push(clientTime);
        skopeoTimes.push(skopeoTime);
      }
    }

    const megabytes = imageBytes / 1024 / 1024;
    const clientRate = megabytes / (median(clientTimes) / 1000);
    const skopeoRate = megabytes / (median(skopeoTimes) / 1000);
    return [
      {
        name: 'registry push, 20 MB image (changeproof client)',
        value: round2(clientRate),
        unit: 'MB/s',
        peer: { name: 'skopeo copy', value: round2(skopeoRate), unit: 'MB/s' },
        ratio: round2(clientRate / skopeoRate),
        target: { value: 0.8 * skopeoRate, better: 'higher' },
      },
      {
        name: 'registry push, 20 MB image, median time (changeproof client)',
        value: Math.round(median(clientTimes)),
        unit: 'ms',
        peer: { name: 'skopeo copy', value: Math.round(median(skopeoTimes)), unit: 'ms' },
        ratio: round2(median(clientTimes) / median(skopeoTimes)),
      },
    ];
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** Starts the embedded registry in a child Node process; it prints its host when listening. */
async function startRegistryProcess(dataDir: string) {
  const entry = fileURLToPath(new URL('../src/embedded/registry/index.ts', import.meta.url));
  const script = [
    `import { startRegistry } from ${JSON.stringify(entry)};`,
    `const registry = await startRegistry({ dataDir: ${JSON.stringify(dataDir)} });`,
    'console.log(registry.host);',
  ].join('\n');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { registry: { host: line.toString().trim() }, child };
}

async function timed(operation: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await operation();
  return performance.now() - started;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export const benchmarks: Benchmark[] = [{ name: 'registry push', run: pushThroughput }];
