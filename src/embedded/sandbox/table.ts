import { isJsonObject, type Json, type KubeObject } from './objects.ts';

/** Whether the client asked for server-side printing (`kubectl get` does). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').includes('as=Table');
}

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority?: number;
  cell: (object: KubeObject) => Json;
}

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  cell: (o) => o.metadata.name,
};
const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  cell: (o) => age(o.metadata.creationTimestamp),
};

function field(object: KubeObject, ...path: string[]): Json | undefined {
  let current: Json | undefined = object as unknown as Json;
  for (const key of path) current = isJsonObject(current) ? current[key] : undefined;
  return current;
}

const number = (object: KubeObject, ...path: string[]): number =>
  Number(field(object, ...path) ?? 0);
const containersOf = (object: KubeObject, ...path: string[]): { name?: string; image?: string }[] =>
  (field(object, ...path) as { name?: string; image?: string }[] | undefined) ?? [];

// Columns per kind, following what the API server prints for the built-in kinds.
const columnsByKind: Record<string, Column[]> = {
  Deployment: [
    nameColumn,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${number(o, 'status', 'readyReplicas')}/${number(o, 'spec', 'replicas')}`,
    },
    { name: 'Up-to-date', type: 'integer', cell: (o) => number(o, 'status', 'updatedReplicas') },
    { name: 'Available', type: 'integer', cell: (o) => number(o, 'status', 'availableReplicas') },
    ageColumn,
    {
      name: 'Containers',
      type: 'string',
      priority: 1,
      cell: (o) =>
        containersOf(o, 'spec', 'template', 'spec', 'containers')
          .map((c) => c.name)
          .join(','),
    },
    {
      name: 'Images',
      type: 'string',
      priority: 1,
      cell: (o) =>
        containersOf(o, 'spec', 'template', 'spec', 'containers')
          .map((c) => c.image)
          .join(','),
    },
  ],
  StatefulSet: [
    nameColumn,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${number(o, 'status', 'readyReplicas')}/${number(o, 'spec', 'replicas')}`,
    },
    ageColumn,
  ],
  ReplicaSet: [
    nameColumn,
    { name: 'Desired', type: 'integer', cell: (o) => number(o, 'spec', 'replicas') },
    { name: 'Current', type: 'integer', cell: (o) => number(o, 'status', 'replicas') },
    { name: 'Ready', type: 'integer', cell: (o) => number(o, 'status', 'readyReplicas') },
    ageColumn,
  ],
  DaemonSet: [
    nameColumn,
    {
      name: 'Desired',
      type: 'integer',
      cell: (o) => number(o, 'status', 'desiredNumberScheduled'),
    },
    { name: 'Ready', type: 'integer', cell: (o) => number(o, 'status', 'numberReady') },
    ageColumn,
  ],
  Pod: [
    nameColumn,
    { name: 'Ready', type: 'string', cell: (o) => podReady(o) },
    {
      name: 'Status',
      type: 'string',
      cell: (o) => String(field(o, 'status', 'phase') ?? 'Pending'),
    },
    { name: 'Restarts', type: 'string', cell: () => '0' },
    ageColumn,
  ],
  Namespace: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      cell: (o) => String(field(o, 'status', 'phase') ?? 'Active'),
    },
    ageColumn,
  ],
  Service: [
    nameColumn,
    { name: 'Type', type: 'string', cell: (o) => String(field(o, 'spec', 'type') ?? 'ClusterIP') },
    {
      name: 'Cluster-IP',
      type: 'string',
      cell: (o) => String(field(o, 'spec', 'clusterIP') ?? '<none>'),
    },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', cell: (o) => servicePorts(o) },
    ageColumn,
  ],
  ConfigMap: [
    nameColumn,
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length },
    ageColumn,
  ],
  Secret: [
    nameColumn,
    { name: 'Type', type: 'string', cell: (o) => String(o.type ?? 'Opaque') },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length },
    ageColumn,
  ],
};

function podReady(pod: KubeObject): string {
  const containers = containersOf(pod, 'spec', 'containers').length;
  return `${field(pod, 'status', 'phase') === 'Running' ? containers : 0}/${containers}`;
}

function servicePorts(service: KubeObject): string {
  const ports =
    (field(service, 'spec', 'ports') as { port?: number; protocol?: string }[] | undefined) ?? [];
  return ports.map((port) => `${port.port}/${port.protocol ?? 'TCP'}`).join(',') || '<none>';
}

/** `5m`, `3h`, `2d` — the age format kubectl shows. */
export function age(timestamp: string | undefined): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 3600 * 3) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400 * 2) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/**
 * A `meta.k8s.io/v1` Table of objects, as the API server prints them for `kubectl get`.
 * `includeObject` follows the query parameter: `Metadata` (the default), `Object` or `None`.
 */
export function tableOf(
  kind: string,
  objects: KubeObject[],
  options: { resourceVersion: string; continueToken?: string; includeObject: string | null },
): object {
  const columns = columnsByKind[kind] ?? [nameColumn, ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      resourceVersion: options.resourceVersion,
      ...(options.continueToken ? { continue: options.continueToken } : {}),
    },
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: column.name,
      priority: column.priority ?? 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => column.cell(object)),
      ...rowObject(object, options.includeObject),
    })),
  };
}

function rowObject(object: KubeObject, includeObject: string | null): object {
  if (includeObject === 'None') return {};
  if (includeObject === 'Object') return { object };
  return {
    object: {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: object.metadata,
    },
  };
}
