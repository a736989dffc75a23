import { request } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import {
  api,
  deployment,
  eventually,
  removeDir,
  startTestSandbox,
  token,
  type TestSandbox,
  type Loose,
} from './helpers.ts';

const configMaps = '/api/v1/namespaces/default/configmaps';
const dirs: string[] = [];

afterAll(() => dirs.forEach(removeDir));

function configMap(name: string, labels: Record<string, string> = {}): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { value: name } };
}

/** Opens a watch and collects its events until `stop()`. */
function openWatch(
  sandbox: TestSandbox,
  path: string,
): { events: Loose[]; status: Promise<number>; stop(): void } {
  const events: Loose[] = [];
  let buffered = '';
  const outgoing = request(new URL(path, sandbox.cluster.url), {
    headers: { authorization: `Bearer ${token}` },
    ca: sandbox.cluster.caCertificatePem,
  });
  const status = new Promise<number>((resolve) => {
    outgoing.on('response', (incoming) => {
      resolve(incoming.statusCode ?? 0);
      incoming.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (line) events.push(JSON.parse(line));
      });
    });
  });
  outgoing.on('error', () => undefined);
  outgoing.end();
  return { events, status, stop: () => outgoing.destroy() };
}

describe('watch', () => {
  it('streams changes matching a label selector, and resumes from a resourceVersion', async () => {
    const sandbox = await startTestSandbox();
    dirs.push(sandbox.dir);
    try {
      await api(sandbox, 'POST', configMaps, configMap('before', { tier: 'web' }));
      const listed = await api(sandbox, 'GET', configMaps);
      const watch = openWatch(
        sandbox,
        `${configMaps}?watch=true&labelSelector=tier%20in%20(web)&resourceVersion=${listed.body.metadata.resourceVersion}`,
      );
      expect(await watch.status).toBe(200);

      await api(sandbox, 'POST', configMaps, configMap('ignored', { tier: 'db' }));
      await api(sandbox, 'POST', configMaps, configMap('web-1', { tier: 'web' }));
      await api(
        sandbox,
        'PATCH',
        `${configMaps}/web-1`,
        { metadata: { labels: { tier: 'db' } } },
        { contentType: 'application/merge-patch+json' },
      );
      await eventually(async () => watch.events.length >= 2);
      watch.stop();
      // Leaving the selector is seen as a deletion, as the API server's watch cache does.
      expect(watch.events.map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual([
        'ADDED web-1',
        'DELETED web-1',
      ]);

      const resumed = openWatch(
        sandbox,
        `${configMaps}?watch=true&resourceVersion=${listed.body.metadata.resourceVersion}`,
      );
      await eventually(async () => resumed.events.length >= 3);
      resumed.stop();
      expect(resumed.events.map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual([
        'ADDED ignored',
        'ADDED web-1',
        'MODIFIED web-1',
      ]);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('restart', () => {
  it('keeps objects, keeps resourceVersion increasing, and answers 410 for a watch from before the restart', async () => {
    const first = await startTestSandbox();
    dirs.push(first.dir);
    await api(first, 'POST', configMaps, configMap('kept'));
    await api(first, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment('web'));
    await eventually(
      async () =>
        (await api(first, 'GET', '/apis/apps/v1/namespaces/default/deployments/web')).body.status
          ?.readyReplicas === 2,
    );
    const early = (await api(first, 'GET', configMaps)).body.metadata.resourceVersion;
    await api(
      first,
      'PATCH',
      `${configMaps}/kept`,
      { data: { value: 'changed' } },
      { contentType: 'application/merge-patch+json' },
    );
    const before = Number((await api(first, 'GET', configMaps)).body.metadata.resourceVersion);
    await first.stop();

    const second = await startTestSandbox({}, first.dir);
    try {
      expect(second.cluster.caCertificatePem).toBe(first.cluster.caCertificatePem);
      const kept = await api(second, 'GET', `${configMaps}/kept`);
      expect(kept.body.data).toEqual({ value: 'changed' });
      const web = await api(second, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
      expect(web.body.status.readyReplicas).toBe(2);

      const created = await api(second, 'POST', configMaps, configMap('after'));
      expect(Number(created.body.metadata.resourceVersion)).toBeGreaterThan(before);

      const expired = await api(second, 'GET', `${configMaps}?watch=true&resourceVersion=${early}`);
      expect(expired.status).toBe(410);
      expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    } finally {
      await second.stop();
    }
  });

  it('runs several sandboxes at once, each with its own port and state', async () => {
    const [one, two] = await Promise.all([startTestSandbox(), startTestSandbox()]);
    dirs.push(one.dir, two.dir);
    try {
      expect(one.cluster.port).not.toBe(two.cluster.port);
      await api(one, 'POST', configMaps, configMap('only-in-one'));
      expect((await api(one, 'GET', `${configMaps}/only-in-one`)).status).toBe(200);
      expect((await api(two, 'GET', `${configMaps}/only-in-one`)).status).toBe(404);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
