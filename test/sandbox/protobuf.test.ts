import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubectl, removeDir, startTestSandbox, type TestSandbox } from './helpers.ts';

let sandbox: TestSandbox;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

/** `kubectl create <args>`, expecting success and the usual "<kind>/<name> created" line. */
async function create(args: string[]): Promise<string> {
  const result = await kubectl(sandbox, ['create', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('kubectl create generators (typed clients sending protobuf)', () => {
  it('creates a namespace, and objects inside it', async () => {
    expect(await create(['namespace', 'team-a'])).toContain('namespace/team-a created');
    const namespace = await api(sandbox, 'GET', '/api/v1/namespaces/team-a');
    expect(namespace.body.status.phase).toBe('Active');

    await create(['configmap', 'settings', '-n', 'team-a', '--from-literal=level=debug']);
    const configMap = await api(sandbox, 'GET', '/api/v1/namespaces/team-a/configmaps/settings');
    expect(configMap.body.data).toEqual({ level: 'debug' });
    expect(configMap.body.metadata.managedFields[0].manager).toBe('kubectl-create');
  });

  it('creates a secret whose bytes arrive base64 as in JSON', async () => {
    await create(['secret', 'generic', 'token', '--from-literal=value=s3cret']);
    const secret = await api(sandbox, 'GET', '/api/v1/namespaces/default/secrets/token');
    expect(secret.body.type).toBe('Opaque');
    expect(Buffer.from(secret.body.data.value, 'base64').toString()).toBe('s3cret');
  });

  it('creates a deployment with its command and port, keeping an explicit zero replicas', async () => {
    const output = await create([
      'deployment',
      'web',
      '--image=registry.local/web:1.0',
      '--port=8080',
      '--replicas=0',
      '--',
      '/bin/server',
      '--verbose',
    ]);
    expect(output).toContain('deployment.apps/web created');
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec).toEqual({
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.local/web:1.0',
              command: ['/bin/server', '--verbose'],
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    });
  });

  it('creates a service with an int-or-string target port', async () => {
    await create(['service', 'clusterip', 'web', '--tcp=80:http']);
    const live = await api(sandbox, 'GET', '/api/v1/namespaces/default/services/web');
    expect(live.body.spec.ports).toEqual([
      { name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http' },
    ]);
    expect(live.body.spec.selector).toEqual({ app: 'web' });
  });

  it('creates a cronjob, and a job from it with an owner reference', async () => {
    await create([
      'cronjob',
      'nightly',
      '--image=busybox:1.36',
      '--schedule=0 2 * * *',
      '--',
      'date',
    ]);
    const cronJob = await api(sandbox, 'GET', '/apis/batch/v1/namespaces/default/cronjobs/nightly');
    expect(cronJob.body.spec.schedule).toBe('0 2 * * *');
    expect(cronJob.body.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('OnFailure');

    await create(['job', 'nightly-now', '--from=cronjob/nightly']);
    const job = await api(sandbox, 'GET', '/apis/batch/v1/namespaces/default/jobs/nightly-now');
    expect(job.body.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'CronJob', name: 'nightly', controller: true }),
    ]);
    expect(job.body.spec.template.spec.containers[0].command).toEqual(['date']);
  });

  it('creates a service account, roles and bindings', async () => {
    await create(['serviceaccount', 'deployer']);
    await create(['role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps']);
    await create(['rolebinding', 'reader', '--role=reader', '--serviceaccount=default:deployer']);
    await create(['clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz']);
    await create(['clusterrolebinding', 'health', '--clusterrole=health', '--group=ops']);

    const role = await api(
      sandbox,
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader',
    );
    expect(role.body.rules).toEqual([
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] },
    ]);
    const binding = await api(
      sandbox,
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/reader',
    );
    expect(binding.body.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'reader',
    });
    expect(binding.body.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'deployer', namespace: 'default' },
    ]);
    const clusterRole = await api(
      sandbox,
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/health',
    );
    expect(clusterRole.body.rules).toEqual([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
  });

  it('refuses a create into a missing namespace with the usual NotFound', async () => {
    const result = await kubectl(sandbox, ['create', 'configmap', 'x', '-n', 'missing']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('namespaces "missing" not found');
  });
});

// A minimal protobuf writer for the refusals below: length-delimited fields only.
function varint(value: number): Buffer {
  const bytes: number[] = [];
  for (; value > 0x7f; value >>>= 7) bytes.push((value & 0x7f) | 0x80);
  bytes.push(value);
  return Buffer.from(bytes);
}

function field(number: number, content: Buffer | string): Buffer {
  const bytes = Buffer.from(content);
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([field(1, apiVersion), field(2, kind)]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), field(1, typeMeta), field(2, raw)]);
}

describe('protobuf bodies the sandbox cannot read', () => {
  const protobuf = { contentType: 'application/vnd.kubernetes.protobuf' };

  it('refuses a kind it has no field table for with 415 and what to do', async () => {
    const body = envelope('v1', 'ResourceQuota', field(1, field(1, 'quota')));
    const response = await api(
      sandbox,
      'POST',
      '/api/v1/namespaces/default/configmaps',
      body,
      protobuf,
    );
    expect(response.status).toBe(415);
    expect(response.body.message).toContain('send ResourceQuota as JSON');
  });

  it('refuses a field it does not know rather than dropping its value', async () => {
    const metadata = field(1, field(1, 'odd'));
    const body = envelope('v1', 'ConfigMap', Buffer.concat([metadata, field(99, 'value')]));
    const response = await api(
      sandbox,
      'POST',
      '/api/v1/namespaces/default/configmaps',
      body,
      protobuf,
    );
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('protobuf field 99 of ConfigMap');
    expect((await api(sandbox, 'GET', '/api/v1/namespaces/default/configmaps/odd')).status).toBe(
      404,
    );
  });

  it('refuses a body without the k8s prefix, and a truncated one', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const unprefixed = await api(sandbox, 'POST', path, Buffer.from('{}'), protobuf);
    expect(unprefixed.status).toBe(400);
    expect(unprefixed.body.message).toContain('"k8s\\0" prefix');
    const good = envelope('v1', 'ConfigMap', field(1, field(1, 'cut')));
    const truncated = await api(sandbox, 'POST', path, good.subarray(0, good.length - 2), protobuf);
    expect(truncated.status).toBe(400);
    expect(truncated.body.message).toContain('malformed protobuf body');
  });
});
