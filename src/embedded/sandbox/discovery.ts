import { hasScale } from './scale.ts';
import { allVerbs, groupVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';

// The kind a `/scale` subresource speaks.
const scaleKind = { group: 'autoscaling', version: 'v1' };

/** The version the sandbox reports at /version (the Kubernetes release whose API it follows). */
export const serverVersion = {
  major: '1',
  minor: '34',
  gitVersion: 'v1.34.0-changeproof-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-08-27T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** The media type of aggregated discovery (one request answers for every group). */
export const aggregatedDiscoveryType =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether the client's Accept header asks for aggregated discovery (kubectl 1.30+ does). */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').includes('as=APIGroupDiscoveryList') && (accept ?? '').includes('v=v2');
}

/** `/api`: the legacy core group's versions. */
export function coreVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `/apis`: every named group and its versions. */
export function groupList(registry: ResourceRegistry): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .filter((entry) => entry.group !== '')
      .map(({ group, versions }) => groupOf(group, versions)),
  };
}

/** `/apis/<group>`: one group. */
export function groupOf(group: string, versions: string[]): object {
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: entries,
    preferredVersion: entries[0],
  };
}

/** `/api/v1` or `/apis/<group>/<version>`: the resources of one group version. */
export function resourceList(registry: ResourceRegistry, group: string, version: string): object {
  const resources = registry.typesIn(group, version).flatMap((type) => {
    const main = {
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: allVerbs,
      ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length ? { categories: type.categories } : {}),
    };
    const subresources = [];
    if (type.hasStatus) subresources.push({ name: `${type.resource}/status`, kind: type.kind });
    if (hasScale(type))
      subresources.push({ name: `${type.resource}/scale`, ...scaleKind, kind: 'Scale' });
    const verbs = ['get', 'patch', 'update'];
    return [
      main,
      ...subresources.map((entry) => ({
        singularName: '',
        namespaced: type.namespaced,
        verbs,
        ...entry,
      })),
    ];
  });
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources,
  };
}

/** The aggregated discovery document for `/api` (core only) or `/apis` (named groups). */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean): object {
  const items = registry
    .groups()
    .filter((entry) => (entry.group === '') === core)
    .map(({ group, versions }) => ({
      metadata: { name: group },
      versions: versions.map((version) => ({
        version,
        resources: registry.typesIn(group, version).map(aggregatedResource),
        freshness: 'Current',
      })),
    }));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items,
  };
}

function aggregatedResource(type: ResourceType): object {
  const responseKind = { group: type.group, version: type.version, kind: type.kind };
  return {
    resource: type.resource,
    responseKind,
    scope: type.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: type.singular,
    verbs: allVerbs,
    ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length ? { categories: type.categories } : {}),
    ...(type.hasStatus || hasScale(type) ? { subresources: aggregatedSubresources(type) } : {}),
  };
}

function aggregatedSubresources(type: ResourceType): object[] {
  const verbs = ['get', 'patch', 'update'];
  const subresources: object[] = [];
  if (type.hasStatus) {
    const responseKind = { group: type.group, version: type.version, kind: type.kind };
    subresources.push({ subresource: 'status', responseKind, verbs });
  }
  if (hasScale(type))
    subresources.push({
      subresource: 'scale',
      responseKind: { ...scaleKind, kind: 'Scale' },
      verbs,
    });
  return subresources;
}
