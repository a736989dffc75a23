import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  deployment,
  eventually,
  removeDir,
  startTestSandbox,
  type TestSandbox,
  type Loose,
} from './helpers.ts';

let sandbox: TestSandbox;
const deployments = '/apis/apps/v1/namespaces/default/deployments';

beforeAll(async () => {
  sandbox = await startTestSandbox();
});

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

async function resourceVersion(): Promise<string> {
  return (await api(sandbox, 'GET', '/api/v1/namespaces')).body.metadata.resourceVersion;
}

/** Asserts a failure Status and that the store's resourceVersion did not move. */
async function expectRefused(
  send: () => Promise<{ status: number; body: Loose }>,
  code: number,
  reason: string,
): Promise<Loose> {
  const before = await resourceVersion();
  const response = await send();
  expect(response.status).toBe(code);
  expect(response.body).toMatchObject({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason,
    code,
  });
  expect(await resourceVersion()).toBe(before);
  return response.body;
}

describe('bad input gets the Status a real API server returns, and nothing is stored', () => {
  it('refuses a request without the bearer token (401)', async () => {
    const response = await api(sandbox, 'GET', '/api/v1/namespaces', undefined, { token: null });
    expect(response.status).toBe(401);
    expect(response.body.reason).toBe('Unauthorized');
    expect((await api(sandbox, 'GET', '/version', undefined, { token: 'wrong' })).status).toBe(401);
  });

  it('refuses malformed JSON (400 BadRequest)', async () => {
    await expectRefused(
      () => api(sandbox, 'POST', deployments, '{"apiVersion": "apps/v1", "kind": '),
      400,
      'BadRequest',
    );
  });

  it('refuses malformed YAML in an apply (400 BadRequest)', async () => {
    const body = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n  spec: [';
    await expectRefused(
      () =>
        api(sandbox, 'PATCH', `${deployments}/web?fieldManager=test`, body, {
          contentType: 'application/apply-patch+yaml',
        }),
      400,
      'BadRequest',
    );
  });

  it('refuses a name that is not DNS-1123 (422 Invalid, naming the field)', async () => {
    const status = await expectRefused(
      () => api(sandbox, 'POST', deployments, deployment('Bad_Name')),
      422,
      'Invalid',
    );
    expect(status.details.causes[0]).toMatchObject({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
    });
    expect(status.message).toContain(
      'Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value',
    );
  });

  it('refuses a selector that does not match the template labels (422 Invalid)', async () => {
    const broken = deployment('web');
    (broken.spec as { selector: unknown }).selector = { matchLabels: { app: 'other' } };
    await expectRefused(() => api(sandbox, 'POST', deployments, broken), 422, 'Invalid');
  });

  it('refuses creating into a missing namespace (404 NotFound)', async () => {
    const status = await expectRefused(
      () => api(sandbox, 'POST', '/apis/apps/v1/namespaces/nowhere/deployments', deployment('web')),
      404,
      'NotFound',
    );
    expect(status.message).toBe('namespaces "nowhere" not found');
  });

  it('refuses an unknown group version (404 NotFound)', async () => {
    await expectRefused(() => api(sandbox, 'GET', '/apis/example.com/v9/widgets'), 404, 'NotFound');
    await expectRefused(
      () =>
        api(sandbox, 'POST', '/apis/example.com/v9/namespaces/default/widgets', { kind: 'Widget' }),
      404,
      'NotFound',
    );
  });

  it('refuses a body over the 3 MiB limit (413 RequestEntityTooLarge)', async () => {
    const huge = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'huge' },
      data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) },
    };
    await expectRefused(
      () => api(sandbox, 'POST', '/api/v1/namespaces/default/configmaps', huge),
      413,
      'RequestEntityTooLarge',
    );
  });

  it('refuses a duplicate (409 AlreadyExists) and a stale resourceVersion (409 Conflict)', async () => {
    const created = await api(sandbox, 'POST', deployments, deployment('web'));
    expect(created.status).toBe(201);
    // The simulated rollout writes status; let it settle so it cannot move the resourceVersion
    // that the refusals below assert unchanged.
    await eventually(
      async () =>
        (await api(sandbox, 'GET', `${deployments}/web`)).body.status?.readyReplicas === 2,
    );
    const duplicate = await expectRefused(
      () => api(sandbox, 'POST', deployments, deployment('web')),
      409,
      'AlreadyExists',
    );
    expect(duplicate.message).toBe('deployments.apps "web" already exists');

    const configMaps = '/api/v1/namespaces/default/configmaps';
    const config = await api(sandbox, 'POST', configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { a: '1' },
    });
    const stale = { ...config.body, data: { a: '2' } };
    const first = await api(sandbox, 'PUT', `${configMaps}/settings`, stale);
    expect(first.status).toBe(200);
    expect(Number(first.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(config.body.metadata.resourceVersion),
    );
    const second = await expectRefused(
      () => api(sandbox, 'PUT', `${configMaps}/settings`, { ...stale, data: { a: '3' } }),
      409,
      'Conflict',
    );
    expect(second.message).toContain('the object has been modified');
    expect((await api(sandbox, 'GET', `${configMaps}/settings`)).body.data).toEqual({ a: '2' });
  });

  it('refuses a JSON patch that does not apply (422) and a malformed one (400)', async () => {
    const failing = [
      { op: 'test', path: '/spec/replicas', value: 99 },
      { op: 'replace', path: '/spec/replicas', value: 1 },
    ];
    await expectRefused(
      () =>
        api(sandbox, 'PATCH', `${deployments}/web`, failing, {
          contentType: 'application/json-patch+json',
        }),
      422,
      'Invalid',
    );
    await expectRefused(
      () =>
        api(
          sandbox,
          'PATCH',
          `${deployments}/web`,
          { op: 'add' },
          { contentType: 'application/json-patch+json' },
        ),
      400,
      'BadRequest',
    );
  });

  it('refuses a strategic merge patch list item without its merge key (400)', async () => {
    const patch = { spec: { template: { spec: { containers: [{ image: 'x' }] } } } };
    await expectRefused(
      () =>
        api(sandbox, 'PATCH', `${deployments}/web`, patch, {
          contentType: 'application/strategic-merge-patch+json',
        }),
      400,
      'BadRequest',
    );
  });

  it('refuses an apply without a field manager (400)', async () => {
    const body = JSON.stringify(deployment('web'));
    await expectRefused(
      () =>
        api(sandbox, 'PATCH', `${deployments}/web`, body, {
          contentType: 'application/apply-patch+yaml',
        }),
      400,
      'BadRequest',
    );
  });

  it('refuses deleting the default namespace (403 Forbidden)', async () => {
    const status = await expectRefused(
      () => api(sandbox, 'DELETE', '/api/v1/namespaces/default'),
      403,
      'Forbidden',
    );
    expect(status.message).toContain('this namespace may not be deleted');
  });

  it('deletes the contents of a namespace with it', async () => {
    expect(
      (
        await api(sandbox, 'POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'team-a' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await api(sandbox, 'POST', '/apis/apps/v1/namespaces/team-a/deployments', deployment('api')))
        .status,
    ).toBe(201);
    expect((await api(sandbox, 'DELETE', '/api/v1/namespaces/team-a')).status).toBe(200);
    expect(
      (await api(sandbox, 'GET', '/apis/apps/v1/namespaces/team-a/deployments/api')).status,
    ).toBe(404);
    expect(
      (await api(sandbox, 'POST', '/apis/apps/v1/namespaces/team-a/deployments', deployment('api')))
        .status,
    ).toBe(404);
  });
});
