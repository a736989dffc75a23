import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import {
  registryImagePolicy,
  startWorkspaceSandboxes,
  type RunningSandboxes,
} from '../../src/server/embedded-services.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { startCli } from '../support/cli.ts';

/*
 * Two reconciler replicas (`changeproof sync --watch --leader-elect`, as the Helm chart runs
 * them) against one sandbox cluster: only the Lease holder runs the CD engine, and the other
 * takes over when the holder is killed without a word.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-leader-'));
let ws: WorkspaceContext;
let sandboxes: RunningSandboxes;
const replicas = new Map<string, { process: ChildProcess; log: string[] }>();

beforeAll(async () => {
  await initWorkspace({ dir: join(root, 'ws'), name: 'leader' });
  ws = await openWorkspace(join(root, 'ws'));
  sandboxes = await startWorkspaceSandboxes(ws, registryImagePolicy());
});

afterAll(async () => {
  for (const { process } of replicas.values()) process.kill('SIGKILL');
  await sandboxes?.close();
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

function startReplica(pod: string) {
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
    { env: { CHANGEPROOF_WORKSPACE: ws.paths.root, POD_NAME: pod } },
  );
  const log: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  replicas.set(pod, { process: child, log });
}

const leads = (pod: string) => replicas.get(pod)!.log.join('').includes('leading: reconciling');

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('reconciler replicas under leader election', () => {
  it('runs the CD engine in the Lease holder only, and fails over when it dies', async () => {
    startReplica('reconciler-a');
    startReplica('reconciler-b');
    await until(() => leads('reconciler-a') || leads('reconciler-b'));
    // Several lease durations later, still exactly one replica has ever led.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const leader = leads('reconciler-a') ? 'reconciler-a' : 'reconciler-b';
    const follower = leader === 'reconciler-a' ? 'reconciler-b' : 'reconciler-a';
    expect(leads(follower)).toBe(false);

    const client = new KubeClient(loadKubeconfig(ws.paths.kubeconfig, 'sandbox-prod'));
    const lease = () =>
      client.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: 'reconciler',
        namespace: 'default',
      }) as Promise<{ spec: { holderIdentity?: string } } | undefined>;
    expect((await lease())?.spec.holderIdentity).toBe(leader);

    replicas.get(leader)!.process.kill('SIGKILL');
    await until(() => leads(follower));
    expect((await lease())?.spec.holderIdentity).toBe(follower);
    client.close();
  }, 90_000);
});

describe('changeproof serve', () => {
  it('serves the API and dashboard only: no registry, sandbox or CD engine', async () => {
    const child = startCli(['serve', '--host', '127.0.0.1', '--port', '0'], {
      env: { CHANGEPROOF_WORKSPACE: ws.paths.root },
    });
    replicas.set('serve', { process: child, log: [] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until(() => out.includes('\n'));

    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^control-plane http:\/\//)]);
    const url = out.trim().split(' ')[1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
  });
});
