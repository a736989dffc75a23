import { describe, expect, it } from 'vitest';
import {
  fieldSetOf,
  fromFieldsV1,
  toFieldsV1,
} from '../../src/embedded/sandbox/apply/field-set.ts';
import { serverSideApply } from '../../src/embedded/sandbox/apply/managed-fields.ts';
import type { Json, KubeObject } from '../../src/embedded/sandbox/objects.ts';
import { applyJsonPatch, JsonPatchError } from '../../src/embedded/sandbox/patch/json-patch.ts';
import { applyMergePatch } from '../../src/embedded/sandbox/patch/merge-patch.ts';
import type { Loose } from './helpers.ts';
import { applyStrategicMergePatch } from '../../src/embedded/sandbox/patch/strategic-merge.ts';
import {
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/embedded/sandbox/selectors.ts';
import { SandboxApiError } from '../../src/embedded/sandbox/status.ts';

const podSpec = {
  containers: [
    {
      name: 'web',
      image: 'web:1',
      env: [{ name: 'A', value: '1' }],
      ports: [{ containerPort: 80 }],
    },
    { name: 'sidecar', image: 'proxy:1' },
  ],
  volumes: [{ name: 'data', emptyDir: {} }],
};

describe('strategic merge patch', () => {
  it('merges containers, env and ports by their keys', () => {
    const patch = {
      containers: [
        {
          name: 'web',
          image: 'web:2',
          env: [{ name: 'B', value: '2' }],
          ports: [{ containerPort: 81 }],
        },
      ],
    };
    expect(applyStrategicMergePatch(podSpec as Json, patch)).toEqual({
      ...podSpec,
      containers: [
        {
          name: 'web',
          image: 'web:2',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          ports: [{ containerPort: 80 }, { containerPort: 81 }],
        },
        { name: 'sidecar', image: 'proxy:1' },
      ],
    });
  });

  it('deletes by $patch: delete and null, and orders by $setElementOrder', () => {
    const patch = {
      containers: [{ name: 'sidecar', $patch: 'delete' }],
      volumes: [{ name: 'cache', emptyDir: {} }],
      '$setElementOrder/volumes': [{ name: 'cache' }, { name: 'data' }],
      restartPolicy: null,
    };
    const result = applyStrategicMergePatch(
      { ...podSpec, restartPolicy: 'Always' } as Json,
      patch,
    ) as typeof podSpec;
    expect(result.containers.map((c) => c.name)).toEqual(['web']);
    expect(result.volumes.map((v) => v.name)).toEqual(['cache', 'data']);
    expect(result).not.toHaveProperty('restartPolicy');
  });

  it('replaces lists that have no merge key', () => {
    expect(applyStrategicMergePatch({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({
      args: ['c'],
    });
  });
});

describe('JSON merge patch and JSON patch', () => {
  it('merge patch removes with null and replaces arrays', () => {
    expect(
      applyMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null }, e: [3] }),
    ).toEqual({ a: 1, b: { d: 3 }, e: [3] });
  });

  it('JSON patch adds, moves, tests and refuses a failed test', () => {
    const result = applyJsonPatch({ a: [1, 2], b: 'x' }, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'move', from: '/b', path: '/c' },
      { op: 'test', path: '/c', value: 'x' },
    ]);
    expect(result).toEqual({ a: [1, 2, 3], c: 'x' });
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(
      JsonPatchError,
    );
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/missing' }])).toThrow(
      /does not exist/,
    );
  });
});

describe('selectors', () => {
  it('parses equality and set-based label selectors', () => {
    const requirements = parseLabelSelector('app=web,tier in (front, api),env!=prod,!legacy,team');
    expect(matchesLabels(requirements, { app: 'web', tier: 'api', env: 'dev', team: 'a' })).toBe(
      true,
    );
    expect(matchesLabels(requirements, { app: 'web', tier: 'db', team: 'a' })).toBe(false);
    expect(matchesLabels(requirements, { app: 'web', tier: 'api', team: 'a', legacy: 'y' })).toBe(
      false,
    );
    expect(matchesLabels(parseLabelSelector('tier notin (db)'), {})).toBe(true);
  });

  it('refuses an unparsable selector and unsupported field labels', () => {
    expect(() => parseLabelSelector('app in web')).toThrow(SandboxApiError);
    expect(parseFieldSelector('metadata.name=web')).toEqual([
      { field: 'metadata.name', equals: true, value: 'web' },
    ]);
    expect(() => parseFieldSelector('spec.nodeName=a')).toThrow(/field label not supported/);
  });
});

describe('server-side apply', () => {
  const applied = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { template: { spec: { containers: [{ name: 'web', image }] } }, ...extra },
  });
  const writer = (manager: string) => ({
    manager,
    apiVersion: 'apps/v1',
    time: '2025-01-01T00:00:00Z',
  });

  it('round-trips field sets through FieldsV1 with keyed list items', () => {
    const set = fieldSetOf(applied('web:1') as never, 'main');
    const tree = toFieldsV1(set);
    expect(tree).toEqual({
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
          },
        },
      },
    });
    expect(fromFieldsV1(tree)).toEqual(set);
  });

  it('conflicts with another manager over a different value unless forced', () => {
    const first = serverSideApply(undefined, applied('web:1'), writer('ci'), {
      force: false,
      scope: 'main',
    });
    expect(() =>
      serverSideApply(first, applied('web:2'), writer('person'), { force: false, scope: 'main' }),
    ).toThrow(/conflict with "ci"/);
    const forced = serverSideApply(first, applied('web:2'), writer('person'), {
      force: true,
      scope: 'main',
    });
    expect((forced.spec as Loose).template.spec.containers[0].image).toBe('web:2');
    const ci = forced.metadata.managedFields!.find((entry) => entry.manager === 'ci')!;
    expect(JSON.stringify(ci.fieldsV1)).not.toContain('f:image');
  });

  it('shares a field applied with the same value and removes fields a manager stops applying', () => {
    const first = serverSideApply(undefined, applied('web:1', { replicas: 2 }), writer('ci'), {
      force: false,
      scope: 'main',
    });
    const shared = serverSideApply(first, applied('web:1'), writer('person'), {
      force: false,
      scope: 'main',
    });
    expect(shared.metadata.managedFields).toHaveLength(2);
    const dropped = serverSideApply(shared, applied('web:1'), writer('ci'), {
      force: false,
      scope: 'main',
    });
    expect(dropped.spec).not.toHaveProperty('replicas');
  });
});
