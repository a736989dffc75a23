import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolPath } from '../../src/tools.ts';
import {
  api,
  eventually,
  kubectl,
  removeDir,
  startTestSandbox,
  token,
  type TestSandbox,
} from './helpers.ts';

/*
 * A group/version/kind the sandbox knows nothing about until a CustomResourceDefinition names it:
 * its objects are stored generically and served with the same CRUD, selectors, concurrency,
 * status subresource and watch as the built-in kinds, to the project's HTTP requests and to the
 * real kubectl alike.
 */
const widgetsCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    ],
  },
};

const widgets = '/apis/example.com/v1/namespaces/default/widgets';

function widget(name: string, size: number, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name, namespace: 'default', labels },
    spec: { size },
  };
}

let sandbox: TestSandbox;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  const file = join(sandbox.dir, 'crd.yaml');
  writeFileSync(file, stringify(widgetsCrd));
  const applied = await kubectl(sandbox, ['apply', '--server-side', '-f', file]);
  expect(applied.stderr).toBe('');
  const established = await kubectl(sandbox, [
    'wait',
    '--for=condition=Established',
    'crd/widgets.example.com',
    '--timeout=30s',
  ]);
  expect(established.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

describe('a custom resource over the API', () => {
  it('is discoverable under its group version', async () => {
    const list = await api(sandbox, 'GET', '/apis/example.com/v1');
    expect(list.status).toBe(200);
    expect(list.body.resources).toContainEqual(
      expect.objectContaining({ name: 'widgets', kind: 'Widget', namespaced: true }),
    );
    expect(list.body.resources).toContainEqual(expect.objectContaining({ name: 'widgets/status' }));
  });

  it('creates, gets, lists by label, refuses a stale update, and deletes', async () => {
    const created = await api(sandbox, 'POST', widgets, widget('alpha', 1, { tier: 'gold' }));
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toBeTruthy();
    expect((await api(sandbox, 'POST', widgets, widget('alpha', 1))).body.reason).toBe(
      'AlreadyExists',
    );
    expect((await api(sandbox, 'POST', widgets, widget('beta', 2))).status).toBe(201);

    const got = await api(sandbox, 'GET', `${widgets}/alpha`);
    expect(got.body.spec).toEqual({ size: 1 });
    const gold = await api(sandbox, 'GET', `${widgets}?labelSelector=tier%3Dgold`);
    expect(gold.body.kind).toBe('WidgetList');
    expect(
      gold.body.items.map((item: { metadata: { name: string } }) => item.metadata.name),
    ).toEqual(['alpha']);

    const stale = { ...got.body, spec: { size: 9 } };
    const updated = await api(sandbox, 'PUT', `${widgets}/alpha`, {
      ...got.body,
      spec: { size: 5 },
    });
    expect(updated.status).toBe(200);
    const conflict = await api(sandbox, 'PUT', `${widgets}/alpha`, stale);
    expect(conflict.status).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');

    expect((await api(sandbox, 'DELETE', `${widgets}/beta`)).status).toBe(200);
    const gone = await api(sandbox, 'GET', `${widgets}/beta`);
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe('widgets.example.com "beta" not found');
  });

  it('keeps status apart from spec through the status subresource', async () => {
    const current = (await api(sandbox, 'GET', `${widgets}/alpha`)).body;
    const written = await api(sandbox, 'PUT', `${widgets}/alpha/status`, {
      ...current,
      spec: { size: 100 },
      status: { ready: true },
    });
    expect(written.status).toBe(200);

    const after = (await api(sandbox, 'GET', `${widgets}/alpha`)).body;
    expect(after.status).toEqual({ ready: true });
    expect(after.spec).toEqual(current.spec);
    expect(after.metadata.generation).toBe(current.metadata.generation);
  });

  it('streams changes to a watch resumed from a resourceVersion', async () => {
    const start = (await api(sandbox, 'GET', widgets)).body.metadata.resourceVersion as string;
    expect((await api(sandbox, 'POST', widgets, widget('gamma', 3))).status).toBe(201);
    expect((await api(sandbox, 'DELETE', `${widgets}/gamma`)).status).toBe(200);

    const events = await watchEvents(`${widgets}?watch=true&resourceVersion=${start}`, 2);

    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'gamma'],
      ['DELETED', 'gamma'],
    ]);
  });
});

describe('a custom resource through kubectl 1.34', () => {
  it('applies server-side, gets by short name, and deletes', async () => {
    const file = join(sandbox.dir, 'widget.yaml');
    writeFileSync(file, stringify(widget('delta', 4)));

    const applied = await kubectl(sandbox, ['apply', '--server-side', '-f', file]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('widget.example.com/delta serverside-applied');
    const size = await kubectl(sandbox, ['get', 'wd', 'delta', '-o', 'jsonpath={.spec.size}']);
    expect(size.stdout).toBe('4');
    const managers = await kubectl(sandbox, [
      'get',
      'widget',
      'delta',
      '--show-managed-fields',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managers.stdout).toBe('kubectl');
    const names = await kubectl(sandbox, ['get', 'widgets', '-o', 'name']);
    expect(names.stdout.trim().split('\n').sort()).toEqual([
      'widget.example.com/alpha',
      'widget.example.com/delta',
    ]);

    const deleted = await kubectl(sandbox, ['delete', '-f', file]);
    expect(deleted.stdout).toContain('widget.example.com "delta" deleted');
    const missing = await kubectl(sandbox, ['get', 'widget', 'delta']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('widgets.example.com "delta" not found');
  });

  it('streams a creation and a deletion to `get -w`', async () => {
    const watcher = startKubectl(['get', 'widgets', '-w', '--output-watch-events']);
    try {
      // The first line comes from the list; the watch then resumes from that list's version.
      await eventually(async () => /ADDED\s+alpha/.test(watcher.output()), 30_000);
      expect((await api(sandbox, 'POST', widgets, widget('epsilon', 5))).status).toBe(201);
      expect((await api(sandbox, 'DELETE', `${widgets}/epsilon`)).status).toBe(200);

      await eventually(async () => /DELETED\s+epsilon/.test(watcher.output()), 30_000);
      expect(watcher.output()).toMatch(/ADDED\s+epsilon/);
    } finally {
      watcher.stop();
    }
  });

  it('deletes every widget when the CRD is deleted, and stops serving the kind', async () => {
    const deleted = await kubectl(sandbox, ['delete', 'crd', 'widgets.example.com']);
    expect(deleted.code).toBe(0);

    await eventually(
      async () => (await api(sandbox, 'GET', '/apis/example.com/v1')).status === 404,
    );
    const get = await kubectl(sandbox, ['get', 'widgets']);
    expect(get.code).not.toBe(0);
    // Which message depends on whether kubectl's discovery cache still names the kind.
    expect(get.stderr).toMatch(
      /the server could not find the requested resource|doesn't have a resource type "widgets"/,
    );

    // Defined again, the kind starts empty: the old objects went with the old definition.
    const file = join(sandbox.dir, 'crd.yaml');
    expect((await kubectl(sandbox, ['apply', '--server-side', '-f', file])).code).toBe(0);
    await eventually(async () => (await api(sandbox, 'GET', widgets)).status === 200);
    expect((await api(sandbox, 'GET', widgets)).body.items).toEqual([]);
  });
});

interface WatchEvent {
  type: string;
  object: { metadata: { name: string } };
}

/** Reads `count` events from a watch over HTTPS, then hangs up. */
function watchEvents(path: string, count: number): Promise<WatchEvent[]> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(path, sandbox.cluster.url),
      { headers: { authorization: `Bearer ${token}` }, ca: sandbox.cluster.caCertificatePem },
      (incoming) => {
        let buffer = '';
        const events: WatchEvent[] = [];
        incoming.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          const lines = buffer.split('\n');
          buffer = lines.pop()!;
          for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
          if (events.length >= count) {
            outgoing.destroy();
            resolve(events.slice(0, count));
          }
        });
      },
    );
    outgoing.on('error', (error) =>
      error.message === 'socket hang up' ? undefined : reject(error),
    );
    outgoing.end();
  });
}

/** kubectl in the background, its output read as it comes. */
function startKubectl(args: string[]) {
  const child = spawn(toolPath('kubectl'), args, {
    env: { PATH: process.env.PATH ?? '', HOME: sandbox.dir, KUBECONFIG: sandbox.kubeconfig },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { output: () => output, stop: () => child.kill('SIGTERM') };
}
