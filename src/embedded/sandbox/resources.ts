/**
 * The resource types the sandbox serves: the built-in core, apps, batch, rbac, networking,
 * admissionregistration, coordination and apiextensions kinds, plus whatever the stored
 * CustomResourceDefinitions add. Discovery, routing, OpenAPI and tables all read this registry.
 */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural lower-case name used in paths, e.g. `deployments`. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Whether the type has a `/status` subresource (spec and status written separately). */
  hasStatus: boolean;
  categories: string[];
  /** Set for types defined by a CustomResourceDefinition. */
  custom?: boolean;
}

/** Every verb the sandbox serves on a resource collection and its members. */
export const allVerbs = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

type Row = [group: string, version: string, resource: string, kind: string, namespaced: boolean];

// Built-ins: [group, version, plural, Kind, namespaced] plus short names and status subresource.
const builtinRows: (Row | [...Row, string[], boolean])[] = [
  ['', 'v1', 'namespaces', 'Namespace', false, ['ns'], true],
  ['', 'v1', 'pods', 'Pod', true, ['po'], true],
  ['', 'v1', 'services', 'Service', true, ['svc'], true],
  ['', 'v1', 'configmaps', 'ConfigMap', true, ['cm'], false],
  ['', 'v1', 'secrets', 'Secret', true, [], false],
  ['', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa'], false],
  ['', 'v1', 'events', 'Event', true, ['ev'], false],
  ['', 'v1', 'nodes', 'Node', false, ['no'], true],
  ['', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], true],
  ['', 'v1', 'endpoints', 'Endpoints', true, ['ep'], false],
  ['apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], true],
  ['apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], true],
  ['apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], true],
  ['apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], true],
  ['batch', 'v1', 'jobs', 'Job', true, [], true],
  ['batch', 'v1', 'cronjobs', 'CronJob', true, ['cj'], true],
  ['rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true],
  ['rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true],
  ['rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false],
  ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false],
  ['networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, ['ing'], true],
  ['networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, ['netpol'], false],
  [
    'admissionregistration.k8s.io',
    'v1',
    'validatingwebhookconfigurations',
    'ValidatingWebhookConfiguration',
    false,
  ],
  ['coordination.k8s.io', 'v1', 'leases', 'Lease', true],
  [
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
    ['crd', 'crds'],
    true,
  ],
];

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']);

function builtinTypes(): ResourceType[] {
  return builtinRows.map(([group, version, resource, kind, namespaced, shortNames, status]) => ({
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    shortNames: shortNames ?? [],
    hasStatus: status ?? false,
    categories: workloadKinds.has(kind) || kind === 'Service' ? ['all'] : [],
  }));
}

/** `apps/v1`, or `v1` for the core group. */
export function groupVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The registry of served types; custom types come and go with their CRDs. */
export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();
  private generation = 0;

  constructor() {
    for (const type of builtinTypes()) this.add(type);
  }

  /** Bumped on every change, so that discovery and OpenAPI caches know to rebuild. */
  get version(): number {
    return this.generation;
  }

  add(type: ResourceType): void {
    this.types.set(`${type.group}/${type.version}/${type.resource}`, type);
    this.generation++;
  }

  removeWhere(predicate: (type: ResourceType) => boolean): void {
    for (const [key, type] of this.types) if (predicate(type)) this.types.delete(key);
    this.generation++;
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.get(`${group}/${version}/${resource}`);
  }

  /** The type that stores a kind in a group (any served version). */
  findKind(group: string, kind: string): ResourceType | undefined {
    for (const type of this.types.values()) {
      if (type.group === group && type.kind === kind) return type;
    }
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Served group versions, grouped: `[{ group: 'apps', versions: ['v1'] }, ...]`. */
  groups(): { group: string; versions: string[] }[] {
    const byGroup = new Map<string, Set<string>>();
    for (const type of this.types.values()) {
      const versions = byGroup.get(type.group) ?? new Set<string>();
      versions.add(type.version);
      byGroup.set(type.group, versions);
    }
    return [...byGroup].map(([group, versions]) => ({ group, versions: [...versions] }));
  }

  typesIn(group: string, version: string): ResourceType[] {
    return this.all().filter((type) => type.group === group && type.version === version);
  }
}

/** The key under which an object of a type is stored, independent of the served version. */
export function storageKeyOf(type: ResourceType): string {
  return `${type.group}/${type.resource}`;
}
