import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeClient } from '../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import { startRegistry, type RunningRegistry } from '../../src/embedded/registry/index.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { writeFiles } from '../../src/gitops/seed.ts';
import {
  registryImagePolicy,
  startWorkspaceSandboxes,
  type RunningSandboxes,
} from '../../src/server/embedded-services.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { pushTestImage } from '../reconcile/fixtures.ts';
import { startCli } from '../support/cli.ts';
import { applicationWrites, startCountingProxy, type CountingProxy } from './counting-proxy.ts';

/*
 * Two reconciler replicas (`changeproof sync --watch --leader-elect`, as the Helm chart runs
 * them) against one sandbox cluster: only the Lease holder runs the CD engine, and the other
 * takes over when the holder is killed without a word.
 *
 * Each replica gets its own workspace folder sharing the database, keys and config repo, whose
 * kubeconfig points at a loopback proxy of its own in front of the sandboxes. The proxies record
 * every request, so the test sees what each replica wrote to the cluster, not only what it logged.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-leader-'));
const overlay = 'apps/checkout/overlays/prod/kustomization.yaml';
let ws: WorkspaceContext;
let sandboxes: RunningSandboxes;
let registry: RunningRegistry;
let pipeline: { signer: Signer; release(): Promise<void> };
const proxies: CountingProxy[] = [];
interface Replica {
  process: ChildProcess;
  log: string[];
  /** The proxy in front of each sandbox cluster, by cluster name. */
  proxies: Map<string, CountingProxy>;
}
const replicas = new Map<string, Replica>();

beforeAll(async () => {
  await initWorkspace({ dir: join(root, 'ws'), name: 'leader' });
  ws = await openWorkspace(join(root, 'ws'));
  registry = await startRegistry({ dataDir: join(root, 'registry') });
  sandboxes = await startWorkspaceSandboxes(ws, registryImagePolicy());
  const lease = await ws.broker.openLease({
    holder: 'test:pipeline',
    scopes: ['sign:pipeline'],
    ttlSeconds: 600,
  });
  pipeline = {
    signer: await ws.broker.signer(lease.id, 'pipeline'),
    release: () => ws.broker.revokeLease(lease.id),
  };
  await git(['clone', '-q', ws.paths.configRepo, join(root, 'work')], { cwd: root });
}, 60_000);

afterAll(async () => {
  for (const { process } of replicas.values()) process.kill('SIGKILL');
  for (const proxy of proxies) await proxy.close();
  await pipeline?.release();
  await sandboxes?.close();
  await registry?.close();
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

/** What `deliver` would do, by hand: a signed, attested image pinned in the prod overlay. */
async function deliverToProd(seed: string): Promise<string> {
  const image = await pushTestImage(registry.host, pipeline.signer, seed, {});
  const [name, digest] = image.split('@');
  const work = join(root, 'work');
  const text = readFileSync(join(work, overlay), 'utf8')
    .replace(/newName: .*/, `newName: ${name}`)
    .replace(/(newTag|digest): .*/, `digest: ${digest}`);
  writeFiles(work, { [overlay]: text });
  await git([...identityArgs('Dev', 'dev@example.test'), 'commit', '-qam', `deliver ${seed}`], {
    cwd: work,
  });
  await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
  return image;
}

/**
 * A workspace folder for one replica: the shared workspace's configuration with the database
 * and config repo named by absolute path, its keys, and a kubeconfig whose clusters are
 * `proxies` (plain HTTP on loopback) with the sandboxes' token.
 */
function replicaWorkspace(pod: string, proxyOf: Map<string, CountingProxy>): string {
  const dir = join(root, pod);
  mkdirSync(join(dir, 'state'), { recursive: true });
  const config = parse(readFileSync(ws.paths.config, 'utf8')) as Record<string, unknown>;
  config.database = `sqlite:${ws.paths.database}`;
  config.configRepo = { path: ws.paths.configRepo, branch: ws.config.configRepo.branch };
  writeFileSync(join(dir, 'changeproof.yaml'), stringify(config));
  cpSync(ws.paths.keysDir, join(dir, 'keys'), { recursive: true });
  for (const key of ['control-plane.key', 'pipeline.key']) chmodSync(join(dir, 'keys', key), 0o600);
  symlinkSync(ws.paths.configRepo, join(dir, 'config-repo.git'));

  const token = readFileSync(join(ws.paths.keysDir, 'sandbox.token'), 'utf8').trim();
  const names = [...proxyOf.keys()];
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: names.map((name) => ({ name, cluster: { server: proxyOf.get(name)!.url } })),
    users: [{ name: 'sandbox-admin', user: { token } }],
    contexts: names.map((name) => ({
      name,
      context: { cluster: name, user: 'sandbox-admin', namespace: 'default' },
    })),
    'current-context': names[0],
  };
  writeFileSync(join(dir, 'kubeconfig'), stringify(kubeconfig), { mode: 0o600 });
  return dir;
}

async function startReplica(pod: string): Promise<void> {
  const proxyOf = new Map<string, CountingProxy>();
  for (const [name, cluster] of sandboxes.clusters) {
    const proxy = await startCountingProxy({ url: cluster.url, caPem: cluster.caCertificatePem });
    proxies.push(proxy);
    proxyOf.set(name, proxy);
  }
  const child = startCli(
    [
      '--log-level',
      'info',
      'sync',
      '--watch',
      '--leader-elect',
      '--lease-name',
      'reconciler',
      '--lease-namespace',
      'default',
      '--lease-duration',
      '2',
      '--lease-cluster',
      'sandbox-prod',
    ],
    { env: { CHANGEPROOF_WORKSPACE: replicaWorkspace(pod, proxyOf), POD_NAME: pod } },
  );
  const log: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  replicas.set(pod, { process: child, log, proxies: proxyOf });
}

const leads = (pod: string) => replicas.get(pod)!.log.join('').includes('leading: reconciling');

/** Every request that created, changed or deleted an application object through `pod`. */
const writesOf = (pod: string) =>
  [...replicas.get(pod)!.proxies.values()].flatMap((proxy) => applicationWrites(proxy));

/** Whether `pod` has talked to the Lease at all: a silent follower would prove nothing. */
const heldOrPolledLease = (pod: string) =>
  replicas
    .get(pod)!
    .proxies.get('sandbox-prod')!
    .requests.some((request) => request.path.includes('/leases/reconciler'));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('reconciler replicas under leader election', () => {
  it('applies from the Lease holder only, and from the other replica once it dies', async () => {
    const client = new KubeClient(loadKubeconfig(ws.paths.kubeconfig, 'sandbox-prod'));
    const liveImage = async () => {
      const deployment = (await client.get({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'checkout',
        namespace: 'checkout-prod',
      })) as { spec: { template: { spec: { containers: { image: string }[] } } } } | undefined;
      return deployment?.spec.template.spec.containers[0]?.image;
    };
    const first = await deliverToProd('v1');

    await startReplica('reconciler-a');
    await startReplica('reconciler-b');
    await until(() => leads('reconciler-a') || leads('reconciler-b'));
    await until(async () => (await liveImage()) === first);
    // Several lease durations later, still exactly one replica has ever led or written.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const leader = leads('reconciler-a') ? 'reconciler-a' : 'reconciler-b';
    const follower = leader === 'reconciler-a' ? 'reconciler-b' : 'reconciler-a';
    expect(leads(follower)).toBe(false);
    expect(heldOrPolledLease(follower)).toBe(true);
    expect(writesOf(follower)).toEqual([]);
    expect(writesOf(leader)).toContainEqual({
      method: 'PATCH',
      path: expect.stringMatching(
        /\/apis\/apps\/v1\/namespaces\/checkout-prod\/deployments\/checkout\b/,
      ),
    });
    const lease = () =>
      client.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: 'reconciler',
        namespace: 'default',
      }) as Promise<{ spec: { holderIdentity?: string } } | undefined>;
    expect((await lease())?.spec.holderIdentity).toBe(leader);

    // The holder dies without a word; a new release is merged; the other replica applies it.
    replicas.get(leader)!.process.kill('SIGKILL');
    const second = await deliverToProd('v2');
    await until(() => leads(follower));
    await until(async () => (await liveImage()) === second);
    expect(writesOf(follower)).toContainEqual({
      method: 'PATCH',
      path: expect.stringMatching(
        /\/apis\/apps\/v1\/namespaces\/checkout-prod\/deployments\/checkout\b/,
      ),
    });
    expect((await lease())?.spec.holderIdentity).toBe(follower);
    client.close();
  }, 120_000);
});

describe('changeproof serve', () => {
  it('serves the API and dashboard only: no registry, sandbox or CD engine', async () => {
    const child = startCli(['serve', '--host', '127.0.0.1', '--port', '0'], {
      env: { CHANGEPROOF_WORKSPACE: ws.paths.root },
    });
    replicas.set('serve', { process: child, log: [], proxies: new Map() });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until(() => out.includes('\n'));

    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^control-plane http:\/\//)]);
    const url = out.trim().split(' ')[1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
  });
});
