import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeClient } from '../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../src/adapters/kubernetes/config.ts';
import { evidenceOf } from '../src/domain/evidence.ts';
import { desiredStateDigest, type KubeObject } from '../src/gitops/render.ts';
import { applicationOf, fieldManager, labelled } from '../src/reconcile/application.ts';
import { verifyApplications } from '../src/reconcile/verification.ts';
import { toolPath } from '../src/tools.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../test/reconcile/fixtures.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

function kubectl(world: CdWorld, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      toolPath('kubectl'),
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: world.sandbox.dir,
          KUBECONFIG: world.sandbox.kubeconfig,
        },
        maxBuffer: 512 * 1024 * 1024,
        timeout: 600_000,
      },
      // kubectl diff exits 1 when there are differences: that is an answer, not a failure.
      (error, stdout, stderr) =>
        error && error.code !== 1 ? reject(new Error(stderr || error.message)) : resolve(stdout),
    ),
  );
}

/** Out-of-band change → drift recorded, and merge → Synced and Healthy, on one application. */
async function driftAndSync(): Promise<BenchResult[]> {
  const world = await startCdWorld();
  try {
    await world.commit(appFiles(await world.pushImage('v0')));
    const engine = await world.startEngine();
    await eventually(async () => engine.applications()[0]?.health === 'Healthy', 30_000);
    const client = new KubeClient(loadKubeconfig(world.sandbox.kubeconfig));
    const deployment = (await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'checkout-dev',
    }))!;

    // Peer: how long the sandbox takes to deliver the same write to a plain watcher.
    const drift: number[] = [];
    const delivery: number[] = [];
    for (let round = 0; round < 15; round += 1) {
      const head = (await world.ledger.head())?.seq ?? 0;
      let delivered = 0;
      const watch = await client.watch('apps/v1', 'Deployment', {
        namespace: 'checkout-dev',
        onEvent: (type, object) => {
          const image = (object.spec as { template: { spec: { containers: { image: string }[] } } })
            .template.spec.containers[0]!.image;
          if (type === 'MODIFIED' && image === `nginx:${round}` && !delivered)
            delivered = performance.now();
        },
      });
      const start = performance.now();
      await client.apply(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'checkout', namespace: 'checkout-dev' },
          spec: { template: { spec: { containers: [{ name: 'web', image: `nginx:${round}` }] } } },
        } as KubeObject,
        { fieldManager: 'bench-operator', force: true },
      );
      await eventually(
        async () =>
          (await world.ledger.list({ kind: 'drift.detected', afterSeq: head })).length > 0,
        10_000,
      );
      drift.push(performance.now() - start);
      await eventually(async () => delivered > 0, 5000);
      delivery.push(delivered - start);
      watch.stop();
      await eventually(
        async () =>
          (await world.ledger.list({ kind: 'drift.reverted', afterSeq: head })).length > 0,
        10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past self-heal backoff
    }
    void deployment;

    const merges: number[] = [];
    for (let round = 1; round <= 5; round += 1) {
      const image = await world.pushImage(`v${round}`);
      const start = performance.now();
      const commit = await world.commit(appFiles(image));
      engine.notifyMerged();
      await eventually(
        async () =>
          (await world.ledger.list({ kind: 'sync.completed' })).some(
            (e) => evidenceOf(e, 'sync.completed')!.configCommit === commit,
          ),
        30_000,
      );
      merges.push(performance.now() - start);
    }
    client.close();
    const driftMedian = median(drift);
    const deliveryMedian = median(delivery);
    return [
      {
        name: 'out-of-band change to drift recorded (median of 15)',
        value: Math.round(driftMedian),
        unit: 'ms',
        target: { value: 1000, better: 'lower' },
        peer: {
          name: 'sandbox watch delivery of the same write',
          value: Math.round(deliveryMedian),
          unit: 'ms',
        },
        ratio: Number((driftMedian / Math.max(1, deliveryMedian)).toFixed(2)),
      },
      {
        name: 'merge to Synced and Healthy (median of 5, sandbox rollout 100 ms)',
        value: Math.round(median(merges)),
        unit: 'ms',
        target: { value: 3000, better: 'lower' },
      },
    ];
  } finally {
    await world.close();
  }
}

const appCount = 1000;
const objectsPerApp = 20;
const diffSampleApps = 100;

function benchApp(index: number): KubeObject[] {
  const namespace = `bench-${index % 50}`;
  const name = `svc-${index}`;
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    },
  ];
  for (let n = 0; n < objectsPerApp - 1; n += 1) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config-${n}`, namespace },
      data: { key: `value-${index}-${n}`, mode: 'production' },
    });
  }
  return objects;
}

/** 1,000 applications of 20 objects: changeproof's verification beside kubectl diff --server-side. */
async function verifyAtScale(): Promise<BenchResult[]> {
  const world = await startCdWorld();
  try {
    const client = new KubeClient(loadKubeconfig(world.sandbox.kubeconfig));
    const environment = world.environment('dev');
    const targets = Array.from({ length: appCount }, (_, index) => {
      const app = applicationOf({ env: 'dev', service: `svc-${index}` }, environment);
      const objects = labelled(benchApp(index), app);
      return {
        app,
        desired: {
          commit: 'c'.repeat(40),
          deployment: `${app.id}/1`,
          objects,
          digest: desiredStateDigest(objects),
          settings: { ignoreDifferences: [] },
        },
      };
    });
    for (let ns = 0; ns < 50; ns += 1)
      await client.apply(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${ns}` } },
        { fieldManager, force: true },
      );
    const all = targets.flatMap((target) => target.desired.objects);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < all.length) await client.apply(all[next++]!, { fieldManager, force: true });
      }),
    );

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const start = performance.now();
    const results = await verifyApplications(
      { ledger: world.ledger, client: () => client, signer: world.controlPlane, actor: 'bench' },
      targets,
    );
    const verifyMs = performance.now() - start;
    clearInterval(sampler);
    if (results.some((result) => !result.equal))
      throw new Error('verification found differences in an unchanged cluster');

    // kubectl diff --server-side makes one dry-run apply per object; measured on a sample of
    // applications and scaled to all of them, because the full run takes minutes.
    const sample = join(world.dir, 'diff-sample.yaml');
    writeFileSync(
      sample,
      all
        .slice(0, diffSampleApps * objectsPerApp)
        .map((o) => stringify(o))
        .join('---\n'),
    );
    const diffStart = performance.now();
    await kubectl(world, [
      'diff',
      '--server-side',
      `--field-manager=${fieldManager}`,
      '--force-conflicts',
      '-f',
      sample,
    ]);
    const diffMs = ((performance.now() - diffStart) * appCount) / diffSampleApps;
    client.close();
    return [
      {
        name: `verification of ${appCount} applications x ${objectsPerApp} objects (signed, sealed)`,
        value: Math.round(verifyMs),
        unit: 'ms',
        target: { value: 5000, better: 'lower' },
        peer: {
          name: `kubectl diff --server-side, ${diffSampleApps} apps timed and scaled to ${appCount}`,
          value: Math.round(diffMs),
          unit: 'ms',
        },
        ratio: Number((verifyMs / diffMs).toFixed(3)),
      },
      {
        name: 'peak RSS during verification (sandbox in the same process)',
        value: Math.round(peakRss / 1024 / 1024),
        unit: 'MB',
        target: { value: 500, better: 'lower' },
      },
    ];
  } finally {
    await world.close();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'drift and sync latency', run: driftAndSync },
  { name: 'verification at scale', run: verifyAtScale },
];
