import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolPath } from '../../src/tools.ts';
import { api, kubectl, removeDir, startTestSandbox, type TestSandbox } from './helpers.ts';

let sandbox: TestSandbox;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});

afterAll(async () => {
  await sandbox.stop();
  removeDir(sandbox.dir);
});

// What a typical chart's Deployment carries: every volume source, probes, env sources,
// security contexts, resources and scheduling.
const podSpec = {
  serviceAccountName: 'web',
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 10001,
    fsGroup: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] },
        ],
      },
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: { app: 'web' } },
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    },
  },
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' },
  ],
  containers: [
    {
      name: 'web',
      image: 'registry.local/web@sha256:' + 'a'.repeat(64),
      ports: [{ name: 'http', containerPort: 8080 }],
      env: [
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'web', key: 'level' } } },
        {
          name: 'TOKEN',
          valueFrom: { secretKeyRef: { name: 'web', key: 'token', optional: true } },
        },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        {
          name: 'MEMORY',
          valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
        },
      ],
      envFrom: [{ prefix: 'APP_', configMapRef: { name: 'web' } }, { secretRef: { name: 'web' } }],
      resources: {
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: 1, memory: '256Mi' },
      },
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
      readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 2 },
      startupProbe: { exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 30 },
      lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
      volumeMounts: [
        { name: 'config', mountPath: '/etc/web', readOnly: true },
        { name: 'cache', mountPath: '/cache' },
        { name: 'data', mountPath: '/data', subPath: 'web' },
      ],
    },
  ],
  volumes: [
    { name: 'config', configMap: { name: 'web', items: [{ key: 'level', path: 'level.txt' }] } },
    { name: 'tls', secret: { secretName: 'web-tls', defaultMode: 0o400 } },
    { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
    { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
    {
      name: 'podinfo',
      downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
    },
    {
      name: 'bundle',
      projected: {
        sources: [
          { configMap: { name: 'web' } },
          { secret: { name: 'web', items: [{ key: 'token', path: 'token' }] } },
          { serviceAccountToken: { path: 'sa-token', audience: 'vault', expirationSeconds: 600 } },
          { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        ],
      },
    },
  ],
};

function chartDeployment(name: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { ...podSpec, ...extra } },
    },
  };
}

describe('the OpenAPI schemas of the core and apps kinds', () => {
  it('accept a chart-style deployment under kubectl strict validation', async () => {
    const file = join(sandbox.dir, 'chart.yaml');
    writeFileSync(file, stringify(chartDeployment('web')));
    const result = await kubectl(sandbox, ['apply', '--server-side', '-f', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('deployment.apps/web serverside-applied');
    const live = await api(sandbox, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(live.body.spec.template.spec.volumes).toEqual(podSpec.volumes);
  });

  it('still refuse an unknown field deep inside a volume source, a probe and a context', async () => {
    const file = join(sandbox.dir, 'typos.yaml');
    const volumes = [{ name: 'config', configMap: { nmae: 'web' } }];
    const containers = [
      {
        ...podSpec.containers[0],
        livenessProbe: { httpGet: { path: '/', prot: 8080 } },
        securityContext: { runAsNonRoot: true, priviledged: false },
      },
    ];
    writeFileSync(file, stringify(chartDeployment('typos', { volumes, containers })));
    const result = await kubectl(sandbox, ['apply', '--server-side', '-f', file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.template.spec.volumes[0].configMap.nmae"');
    expect(result.stderr).toContain(
      'unknown field "spec.template.spec.containers[0].livenessProbe.httpGet.prot"',
    );
    expect(result.stderr).toContain(
      'unknown field "spec.template.spec.containers[0].securityContext.priviledged"',
    );
  });

  it('explain the fields users look up', async () => {
    const cases: [string, string][] = [
      ['deployment.spec.template.spec.volumes.configMap.items', 'FIELD: items <[]KeyToPath>'],
      ['pod.spec.volumes.persistentVolumeClaim.claimName', 'FIELD: claimName <string>'],
      ['pod.spec.containers.livenessProbe.httpGet.port', 'FIELD: port <IntOrString>'],
      ['pod.spec.containers.envFrom.secretRef', 'FIELD: secretRef <SecretEnvSource>'],
      ['pod.spec.containers.resources.limits', 'FIELD: limits <map[string]'],
      ['pod.spec.securityContext.runAsNonRoot', 'FIELD: runAsNonRoot <boolean>'],
      ['pod.spec.affinity.podAntiAffinity', 'FIELD: podAntiAffinity <PodAntiAffinity>'],
      ['pod.spec.tolerations.effect', 'FIELD: effect <string>'],
      ['deployment.spec.strategy.rollingUpdate.maxSurge', 'FIELD: maxSurge <IntOrString>'],
    ];
    for (const [path, expected] of cases) {
      const result = await kubectl(sandbox, ['explain', path]);
      expect(result.stderr, path).toBe('');
      expect(result.stdout, path).toContain(expected);
    }
  });

  it("accept the project's own Helm chart without --validate=false", async () => {
    const chart = join(import.meta.dirname, '..', '..', 'deploy', 'helm', 'changeproof');
    const rendered = await new Promise<string>((resolve, reject) =>
      execFile(
        toolPath('helm'),
        ['template', 'cp', chart, '--namespace', 'default'],
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    const file = join(sandbox.dir, 'changeproof-chart.yaml');
    writeFileSync(file, rendered);
    const result = await kubectl(sandbox, ['apply', '--dry-run=server', '-f', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/deployment\.apps\/cp-changeproof-reconciler created/);
  });
});
