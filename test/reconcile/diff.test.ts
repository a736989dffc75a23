import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/gitops/render.ts';
import { diffObject, liveStateDigest, redactedDiff } from '../../src/reconcile/diff.ts';
import { healthOf, worstHealth } from '../../src/reconcile/health.ts';
import { desiredStateDigest } from '../../src/gitops/render.ts';

const desired: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: 'web', image: 'r/web@sha256:aa' }] } },
  },
};

function live(
  overrides: { replicas?: number; image?: string; managers?: unknown[] } = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '9',
      managedFields: overrides.managers ?? [],
    },
    spec: {
      replicas: overrides.replicas ?? 2,
      strategy: { type: 'RollingUpdate' },
      template: {
        spec: {
          containers: [
            {
              name: 'web',
              image: overrides.image ?? 'r/web@sha256:aa',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
        },
      },
    },
    status: { availableReplicas: 2 },
  };
}

describe('diff', () => {
  it('ignores fields the server or controllers add', () => {
    expect(diffObject(desired, live())).toEqual([]);
    const key = 'Deployment/shop/web';
    expect(liveStateDigest([desired], new Map([[key, live()]]))).toBe(
      desiredStateDigest([desired]),
    );
  });

  it('reports a changed field Git sets, as a JSON pointer', () => {
    expect(diffObject(desired, live({ image: 'nginx' }))).toEqual([
      { path: '/spec/template/spec/containers/0/image', desired: 'r/web@sha256:aa', live: 'nginx' },
    ]);
  });

  it('skips ignoreDifferences by JSON pointer and by field manager', () => {
    const scaled = live({
      replicas: 5,
      managers: [
        {
          manager: 'hpa-controller',
          operation: 'Update',
          fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        },
      ],
    });
    expect(diffObject(desired, scaled)).toHaveLength(1);
    expect(
      diffObject(desired, scaled, [{ kind: 'Deployment', jsonPointers: ['/spec/replicas'] }]),
    ).toEqual([]);
    expect(diffObject(desired, scaled, [{ managedFieldsManagers: ['hpa-controller'] }])).toEqual(
      [],
    );
    expect(
      diffObject(desired, scaled, [{ kind: 'Service', jsonPointers: ['/spec/replicas'] }]),
    ).toHaveLength(1);
  });

  it('never writes Secret values into a diff', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'a' },
      data: { p: 'c2VjcmV0' },
    };
    const text = redactedDiff(secret, [{ path: '/data/p', desired: 'c2VjcmV0', live: 'bGVhaw==' }]);
    expect(text).not.toContain('c2VjcmV0');
    expect(text).not.toContain('bGVhaw==');
  });
});

describe('health', () => {
  it('follows Argo CD for deployments', () => {
    const base: KubeObject = { ...desired, metadata: { ...desired.metadata, generation: 2 } };
    expect(healthOf(undefined).status).toBe('Missing');
    expect(healthOf({ ...base, status: { observedGeneration: 1 } }).status).toBe('Progressing');
    expect(
      healthOf({
        ...base,
        status: { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 },
      }).status,
    ).toBe('Healthy');
    expect(
      healthOf({
        ...base,
        status: {
          observedGeneration: 2,
          conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }],
        },
      }).status,
    ).toBe('Degraded');
    expect(healthOf({ ...base, spec: { ...(base.spec as object), paused: true } }).status).toBe(
      'Suspended',
    );
    expect(
      worstHealth([{ status: 'Healthy' }, { status: 'Missing' }, { status: 'Progressing' }]).status,
    ).toBe('Missing');
  });
});
