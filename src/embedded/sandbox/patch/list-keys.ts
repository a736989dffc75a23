/*
 * What the Kubernetes Go types declare as `patchMergeKey` / `x-kubernetes-list-map-keys`: lists
 * whose items are merged by a key field instead of being replaced whole. Strategic merge patch,
 * server-side apply and the OpenAPI document all read it from here. The sandbox keys by field
 * name, which is how the common workload kinds use these lists; any other list is atomic.
 */
const mergeKeyByField: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  webhooks: 'name',
  ownerReferences: 'uid',
  secrets: 'name',
};

// Lists of strings merged as sets (each value owned on its own).
const setLists = new Set(['finalizers']);

/**
 * The key that identifies an item of the list held in `field`, or undefined when the list is
 * atomic. `ports` is keyed by `containerPort` in containers and by `port` in services.
 */
export function mergeKeyOf(field: string, items: readonly unknown[]): string | undefined {
  if (field === 'ports') {
    const first = items.find((item) => typeof item === 'object' && item !== null) as
      Record<string, unknown> | undefined;
    if (!first) return undefined;
    return 'containerPort' in first ? 'containerPort' : 'port';
  }
  return mergeKeyByField[field];
}

/** The merge key declared for a field whatever its items look like (for OpenAPI). */
export function declaredMergeKey(
  field: string,
  ownerKind: 'container' | 'service',
): string | undefined {
  if (field === 'ports') return ownerKind === 'container' ? 'containerPort' : 'port';
  return mergeKeyByField[field];
}

export function isSetList(field: string): boolean {
  return setLists.has(field);
}
