import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  deployment,
  eventually,
  kubectl,
  removeDir,
  startTestSandbox,
  type TestSandbox,
} from './helpers.ts';

let sandbox: TestSandbox;
const webPath = '/apis/apps/v1/namespaces/default/deployments/web';

beforeAll(async () => {
  sandbox = await startTestSandbox();
  const created = await api(sandbox, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
    ...deployment('web', 'registry.local/web:1.0', 1),
    spec: {
      ...(deployment('web').spec as object),
      replicas: 1,
      selector: {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }],
      },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' } },
        spec: { containers: [{ name: 'web', image: 'registry.local/web:1.0' }] },
      },
    },
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

describe('the scale subresource', () => {
  it('serves an autoscaling/v1 Scale with the selector in query form', async () => {
    const scale = await api(sandbox, 'GET', `${webPath}/scale`);
    expect(scale.status).toBe(200);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 1 },
      status: { selector: 'app=web,tier in (front,edge)' },
    });
  });

  it('scales a deployment with kubectl, and the rollout follows the new count', async () => {
    const result = await kubectl(sandbox, ['scale', 'deployment', 'web', '--replicas=3']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('deployment.apps/web scaled');

    const rollout = await kubectl(sandbox, [
      'rollout',
      'status',
      'deployment/web',
      '--timeout=10s',
    ]);
    expect(rollout.stdout).toContain('successfully rolled out');
    const live = await api(sandbox, 'GET', webPath);
    expect(live.body.spec.replicas).toBe(3);
    expect(live.body.metadata.generation).toBe(2);
    expect(live.body.status).toMatchObject({ observedGeneration: 2, readyReplicas: 3 });
    const entry = live.body.metadata.managedFields.find(
      (field: { subresource?: string }) => field.subresource === 'scale',
    );
    expect(entry.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const table = await kubectl(sandbox, ['get', 'deployment', 'web']);
    expect(table.stdout).toMatch(/web\s+3\/3\s+3\s+3/);
  });

  it('honours --current-replicas, refusing when the count has moved', async () => {
    const result = await kubectl(sandbox, [
      'scale',
      'deployment/web',
      '--current-replicas=2',
      '--replicas=5',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Expected replicas to be 2, was 3');
    expect((await api(sandbox, 'GET', webPath)).body.spec.replicas).toBe(3);
  });

  it('scales statefulsets and replicasets, down to zero', async () => {
    for (const kind of ['StatefulSet', 'ReplicaSet']) {
      const resource = `${kind.toLowerCase()}s`;
      const body = { ...deployment('db'), kind };
      const created = await api(
        sandbox,
        'POST',
        `/apis/apps/v1/namespaces/default/${resource}`,
        body,
      );
      expect(created.status).toBe(201);
      const result = await kubectl(sandbox, ['scale', resource, 'db', '--replicas=0']);
      expect(result.stdout).toContain(`${kind.toLowerCase()}.apps/db scaled`);
      await eventually(async () => {
        const live = await api(sandbox, 'GET', `/apis/apps/v1/namespaces/default/${resource}/db`);
        return live.body.spec.replicas === 0 && live.body.status?.observedGeneration === 2;
      });
    }
  });

  it('refuses a stale resourceVersion with 409 and a negative count with 422', async () => {
    const stale = await api(sandbox, 'PUT', `${webPath}/scale`, {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
      spec: { replicas: 4 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');

    const negative = await api(
      sandbox,
      'PATCH',
      `${webPath}/scale`,
      { spec: { replicas: -1 } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(negative.status).toBe(422);
    expect(negative.body.message).toContain('spec.replicas');
    expect((await api(sandbox, 'GET', webPath)).body.spec.replicas).toBe(3);
  });

  it('is not served for kinds without replicas', async () => {
    const daemonSets = await api(
      sandbox,
      'GET',
      '/apis/apps/v1/namespaces/default/daemonsets/web/scale',
    );
    expect(daemonSets.status).toBe(404);
    const result = await kubectl(sandbox, ['scale', 'configmap', 'x', '--replicas=2']);
    expect(result.code).not.toBe(0);
  });
});
