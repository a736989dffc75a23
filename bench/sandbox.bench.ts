import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeClient } from '../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../src/adapters/kubernetes/config.ts';
import { startSandboxCluster, type SandboxCluster } from '../src/embedded/sandbox/index.ts';
import type { KubeObject } from '../src/gitops/render.ts';
import { selfSignedCertificate } from '../src/embedded/sandbox/tls.ts';
import { toolPath } from '../src/tools.ts';
import { median, percentile, type Benchmark, type BenchResult } from './harness.ts';

const token = 'bench-token';

interface Client {
  send(
    method: string,
    path: string,
    body?: string,
    contentType?: string,
  ): Promise<{ status: number; text: string }>;
  agent: Agent;
}

// One keep-alive HTTPS client, as the project's own Kubernetes client would hold.
function clientFor(cluster: SandboxCluster): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ca: cluster.caCertificatePem });
  const send: Client['send'] = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = contentType;
      const outgoing = request(
        new URL(path, cluster.url),
        { method, headers, agent },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  return { send, agent };
}

function deployment(name: string, namespace: string): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: `registry.local/${name}:1.0` }] },
      },
    },
  };
}

function configMap(name: string, namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { key: name },
  };
}

async function inBatches<T>(
  items: T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < items.length; start += width)
    await Promise.all(items.slice(start, start + width).map(work));
}

async function withSandbox<T>(
  run: (cluster: SandboxCluster, client: Client, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-bench-'));
  const cluster = await startSandboxCluster({
    dataDir: join(dir, 'data'),
    token,
    rolloutDelayMs: 50,
  });
  const client = clientFor(cluster);
  try {
    return await run(cluster, client, dir);
  } finally {
    client.agent.destroy();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function createNamespaces(client: Client, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `team-${index}`);
  for (const name of names)
    await client.send(
      'POST',
      '/api/v1/namespaces',
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    );
  return names;
}

// The machine's limit for the list: the same bytes served by a plain HTTPS server on loopback.
async function staticTransferMs(bytes: string): Promise<number> {
  const tls = selfSignedCertificate('127.0.0.1');
  const server = createServer(
    { key: tls.keyPem, cert: tls.certificatePem },
    (_request, response) => {
      response
        .writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(bytes),
        })
        .end(bytes);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const agent = new Agent({ keepAlive: true, ca: tls.certificatePem });
  const times: number[] = [];
  for (let run = 0; run < 11; run++) {
    const started = performance.now();
    await new Promise<void>((resolve) =>
      // Read as the sandbox's client reads: collect, join and decode.
      request(url, { agent }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          Buffer.concat(chunks).toString('utf8');
          resolve();
        });
      }).end(),
    );
    if (run > 0) times.push(performance.now() - started);
  }
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  return median(times);
}

async function listBenchmark(): Promise<BenchResult[]> {
  return withSandbox(async (_cluster, client) => {
    const namespaces = await createNamespaces(client, 20);
    const objects = Array.from({ length: 20_000 }, (_, index) => {
      const namespace = namespaces[index % namespaces.length]!;
      return index % 2 === 0
        ? {
            path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
            body: deployment(`app-${index}`, namespace),
          }
        : {
            path: `/api/v1/namespaces/${namespace}/configmaps`,
            body: configMap(`config-${index}`, namespace),
          };
    });
    await inBatches(objects, 16, async (object) => {
      const response = await client.send('POST', object.path, JSON.stringify(object.body));
      if (response.status !== 201)
        throw new Error(`seeding failed: ${response.status} ${response.text}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const times: number[] = [];
    let body = '';
    for (let run = 0; run < 11; run++) {
      const started = performance.now();
      const response = await client.send('GET', '/apis/apps/v1/deployments');
      if (run > 0) times.push(performance.now() - started);
      body = response.text;
    }
    const items = (JSON.parse(body) as { items: unknown[] }).items.length;
    if (items !== 10_000) throw new Error(`expected 10000 deployments, listed ${items}`);
    const limit = await staticTransferMs(body);
    const value = median(times);
    return [
      {
        name: `list all Deployments (10,000 of 20,000 objects, ${(body.length / 1e6).toFixed(1)} MB)`,
        value,
        unit: 'ms',
        target: { value: 200, better: 'lower' },
        peer: { name: 'same bytes from a static HTTPS server', value: limit, unit: 'ms' },
        ratio: value / limit,
      },
    ];
  });
}

async function watchBenchmark(): Promise<BenchResult[]> {
  return withSandbox(async (cluster, client) => {
    const received = new Map<string, number[]>();
    const streams: (() => void)[] = [];
    for (let index = 0; index < 200; index++) {
      await new Promise<void>((resolve) => {
        const outgoing = request(
          new URL(
            '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0',
            cluster.url,
          ),
          { headers: { authorization: `Bearer ${token}` }, ca: cluster.caCertificatePem },
          (incoming) => {
            let buffered = '';
            incoming.on('data', (chunk: Buffer) => {
              const now = performance.now();
              buffered += chunk.toString('utf8');
              const lines = buffered.split('\n');
              buffered = lines.pop()!;
              for (const line of lines) {
                const name = (JSON.parse(line) as { object: { metadata: { name: string } } }).object
                  .metadata.name;
                received.set(name, [...(received.get(name) ?? []), now]);
              }
            });
            resolve();
          },
        );
        outgoing.on('error', () => undefined);
        outgoing.end();
        streams.push(() => outgoing.destroy());
      });
    }

    const latencies: number[] = [];
    const writeTimes: number[] = [];
    for (let write = 0; write < 50; write++) {
      const name = `watched-${write}`;
      const started = performance.now();
      await client.send(
        'POST',
        '/api/v1/namespaces/default/configmaps',
        JSON.stringify(configMap(name, 'default')),
      );
      writeTimes.push(performance.now() - started);
      const deadline = Date.now() + 2000;
      while ((received.get(name)?.length ?? 0) < 200 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      for (const at of received.get(name) ?? []) latencies.push(at - started);
    }
    streams.forEach((stop) => stop());
    const delivered = latencies.length / (50 * 200);
    const p99 = percentile(latencies, 99);
    const write = median(writeTimes);
    return [
      {
        name: `watch event delivery, p99 over 200 watches (${(delivered * 100).toFixed(1)}% delivered)`,
        value: p99,
        unit: 'ms',
        target: { value: 50, better: 'lower' },
        peer: { name: 'median create round trip', value: write, unit: 'ms' },
        ratio: p99 / write,
      },
      {
        name: 'watch event delivery, median over 200 watches',
        value: median(latencies),
        unit: 'ms',
        target: { value: 50, better: 'lower' },
      },
    ];
  });
}

function runKubectl(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('kubectl'),
      args,
      { env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve()),
    );
  });
}

/** Both runs must have stored every object, each owned by its own field manager. */
async function expectApplied(client: Client, namespace: string, manager: string): Promise<void> {
  for (const path of [
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    `/api/v1/namespaces/${namespace}/configmaps`,
  ]) {
    const list = JSON.parse((await client.send('GET', path)).text) as {
      items: { metadata: { managedFields?: { manager: string }[] } }[];
    };
    const owned = list.items.filter((item) =>
      item.metadata.managedFields?.some((field) => field.manager === manager),
    );
    if (owned.length !== 500)
      throw new Error(`${path}: ${owned.length} of 500 objects applied by ${manager}`);
  }
}

async function applyBenchmark(): Promise<BenchResult[]> {
  return withSandbox(async (cluster, client, dir) => {
    await createNamespaces(client, 2);
    const documents = (namespace: string) =>
      Array.from({ length: 1000 }, (_, index) =>
        index % 2 === 0
          ? deployment(`app-${index}`, namespace)
          : configMap(`config-${index}`, namespace),
      );
    const manifest = join(dir, 'objects.yaml');
    writeFileSync(
      manifest,
      documents('team-0')
        .map((doc) => stringify(doc))
        .join('---\n'),
    );
    const kubeconfig = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);

    const kubectlStarted = performance.now();
    await runKubectl(['apply', '--server-side', '-f', manifest], {
      KUBECONFIG: kubeconfig,
      HOME: dir,
    });
    const kubectlMs = performance.now() - kubectlStarted;

    // The same objects through the client the CD engine syncs with, one apply each, in order
    // as kubectl sends them, over the same kubeconfig.
    const kube = new KubeClient(loadKubeconfig(kubeconfig));
    const ownStarted = performance.now();
    try {
      for (const doc of documents('team-1') as KubeObject[])
        await kube.apply(doc, { fieldManager: 'changeproof', force: true });
    } finally {
      kube.close();
    }
    const ownMs = performance.now() - ownStarted;
    await expectApplied(client, 'team-0', 'kubectl');
    await expectApplied(client, 'team-1', 'changeproof');
    return [
      {
        name: 'kubectl apply --server-side of 1,000 objects',
        value: kubectlMs,
        unit: 'ms',
        peer: {
          name: 'changeproof KubeClient.apply, same 1,000 objects',
          value: ownMs,
          unit: 'ms',
        },
        ratio: kubectlMs / ownMs,
      },
    ];
  });
}

export const benchmarks: Benchmark[] = [
  { name: 'sandbox: list Deployments among 20,000 objects', run: listBenchmark },
  { name: 'sandbox: watch latency under 200 watches', run: watchBenchmark },
  { name: 'sandbox: server-side apply of 1,000 objects', run: applyBenchmark },
];
