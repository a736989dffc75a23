import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
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
let manifest: string;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  manifest = join(sandbox.dir, 'web.yaml');
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const config = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'web-config' },
    data: { level: 'info' },
  };
  writeFileSync(
    manifest,
    [deployment('web'), service, config].map((doc) => stringify(doc)).join('---\n'),
  );
});

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

describe('kubectl 1.34 against the sandbox', () => {
  it('lists the namespaces every cluster has', async () => {
    const result = await kubectl(sandbox, ['get', 'namespaces']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^NAME\s+STATUS\s+AGE/);
    expect(result.stdout).toMatch(/default\s+Active/);
    expect(result.stdout).toMatch(/kube-system\s+Active/);
  });

  it('applies server-side with strict validation and the deployment rolls out', async () => {
    const result = await kubectl(sandbox, ['apply', '--server-side', '-f', manifest]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('deployment.apps/web serverside-applied');
    expect(result.stdout).toContain('service/web serverside-applied');

    const rollout = await kubectl(sandbox, [
      'rollout',
      'status',
      'deployment/web',
      '--timeout=10s',
    ]);
    expect(rollout.stdout).toContain('successfully rolled out');
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.status).toMatchObject({
      observedGeneration: 1,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(
      live.body.metadata.managedFields.map((entry: { manager: string }) => entry.manager),
    ).toEqual(['kubectl', 'kube-controller-manager']);
  });

  it('refuses an unknown field under kubectl strict validation', async () => {
    const bad = join(sandbox.dir, 'bad.yaml');
    writeFileSync(
      bad,
      stringify({
        ...deployment('typo'),
        spec: { ...(deployment('typo').spec as object), replicaz: 3 },
      }),
    );
    const result = await kubectl(sandbox, ['apply', '--server-side', '-f', bad]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.replicaz"');
    expect(
      (await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/typo')).status,
    ).toBe(404);
  });

  it('edits through KUBE_EDITOR and bumps the generation', async () => {
    const editor = join(sandbox.dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 2/replicas: 3/" "$1"\n', { mode: 0o755 });
    const result = await kubectl(sandbox, ['edit', 'deployment/web'], { KUBE_EDITOR: editor });
    expect(result.stdout).toContain('deployment.apps/web edited');
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec.replicas).toBe(3);
    expect(live.body.metadata.generation).toBe(2);
    expect(
      live.body.metadata.managedFields.some(
        (entry: { manager: string }) => entry.manager === 'kubectl-edit',
      ),
    ).toBe(true);
  });

  it('sets an image with a strategic merge patch, keeping the other container fields', async () => {
    const result = await kubectl(sandbox, [
      'set',
      'image',
      'deployment/web',
      'web=registry.local/web:2.0',
    ]);
    expect(result.stdout).toContain('image updated');
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'registry.local/web:2.0', ports: [{ containerPort: 8080 }] },
    ]);
  });

  it('diffs the manifest against the live state (exit 1 on a difference)', async () => {
    const result = await kubectl(sandbox, [
      'diff',
      '--server-side',
      '--force-conflicts',
      '-f',
      manifest,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^-\s+- image: registry.local\/web:2.0$/m);
    expect(result.stdout).toMatch(/^\+\s+- image: registry.local\/web:1.0$/m);
    // A dry run stores nothing.
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec.template.spec.containers[0].image).toBe('registry.local/web:2.0');
  });

  it('reports the conflict with another field manager, and takes the field with --force-conflicts', async () => {
    const refused = await kubectl(sandbox, ['apply', '--server-side', '-f', manifest]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('conflict with "kubectl-set"');
    const forced = await kubectl(sandbox, [
      'apply',
      '--server-side',
      '--force-conflicts',
      '-f',
      manifest,
    ]);
    expect(forced.code).toBe(0);
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec.template.spec.containers[0].image).toBe('registry.local/web:1.0');
    expect(live.body.spec.replicas).toBe(2);
  });

  it('streams an update to `get -w`', async () => {
    const watcher = kubectl(sandbox, [
      'get',
      'configmap',
      'web-config',
      '-w',
      '--output-watch-events',
      '--request-timeout=3s',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const patch = await api(
      sandbox,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/web-config',
      { data: { level: 'debug' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patch.status).toBe(200);
    const result = await watcher;
    expect(result.stdout).toMatch(/ADDED\s+web-config/);
    expect(result.stdout).toMatch(/MODIFIED\s+web-config/);
  });

  it('explains core and apps fields from the OpenAPI document', async () => {
    const result = await kubectl(sandbox, [
      'explain',
      'deployment.spec.template.spec.containers.image',
    ]);
    expect(result.stdout).toContain('KIND:       Deployment');
    expect(result.stdout).toContain('FIELD: image <string>');
  });

  it('deletes what the manifest created', async () => {
    const result = await kubectl(sandbox, ['delete', '-f', manifest]);
    expect(result.stdout).toContain('deployment.apps "web" deleted');
    await eventually(
      async () =>
        (await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web')).status ===
        404,
    );
    const after = await kubectl(sandbox, ['get', 'deployments,services,configmaps']);
    expect(after.stderr).toContain('No resources found');
  });
});
