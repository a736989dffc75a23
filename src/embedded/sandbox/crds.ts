import { recordUpdate } from './apply/managed-fields.ts';
import { timestamp } from './context.ts';
import { isJsonObject, type JsonObject, type KubeObject } from './objects.ts';
import type { ResourceRegistry, ResourceType } from './resources.ts';
import type { ObjectStore } from './store.ts';

const crdStorageKey = 'apiextensions.k8s.io/customresourcedefinitions';

/**
 * Serves the kinds that CustomResourceDefinitions define: each served version of a stored CRD
 * becomes a resource type (objects stored generically, without conversion between versions),
 * the CRD is marked Established, and deleting it deletes its objects.
 */
export class CustomResourceController {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
  ) {}

  start(): void {
    for (const stored of this.store.list(crdStorageKey)) this.register(stored.object);
    this.unsubscribe = this.store.hub.subscribe(crdStorageKey, (event) => {
      if (event.type === 'DELETED') this.unregister(event.object, true);
      else this.register(event.object);
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private register(crd: KubeObject): void {
    this.unregister(crd, false);
    for (const type of typesOf(crd)) this.registry.add(type);
    if (!isEstablished(crd)) this.markEstablished(crd);
  }

  private unregister(crd: KubeObject, deleteObjects: boolean): void {
    const spec = specOf(crd);
    const group = String(spec.group ?? '');
    const plural = String((isJsonObject(spec.names) ? spec.names.plural : '') ?? '');
    this.registry.removeWhere(
      (type) => Boolean(type.custom) && type.group === group && type.resource === plural,
    );
    if (!deleteObjects) return;
    const storageKey = `${group}/${plural}`;
    for (const stored of this.store.list(storageKey)) {
      this.store.remove(storageKey, stored.object.metadata.namespace, stored.object.metadata.name);
    }
  }

  private markEstablished(crd: KubeObject): void {
    const now = timestamp();
    const names = specOf(crd).names ?? {};
    const status = {
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          lastTransitionTime: now,
          reason: 'NoConflicts',
          message: 'no conflicts found',
        },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: now,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: names,
      storedVersions: servedVersionsOf(crd)
        .filter((version) => version.storage === true)
        .map((version) => version.name),
    };
    const next: KubeObject = { ...crd, metadata: { ...crd.metadata }, status };
    recordUpdate(
      crd,
      next,
      {
        manager: 'kube-apiserver',
        apiVersion: 'apiextensions.k8s.io/v1',
        subresource: 'status',
        time: now,
      },
      'status',
    );
    // Deferred: the write that triggered this must finish notifying its watchers first.
    queueMicrotask(() => {
      const current = this.store.get(crdStorageKey, undefined, crd.metadata.name);
      if (current && current.object.metadata.resourceVersion === crd.metadata.resourceVersion)
        this.store.put(crdStorageKey, next);
    });
  }
}

function specOf(crd: KubeObject): JsonObject {
  return isJsonObject(crd.spec) ? crd.spec : {};
}

function servedVersionsOf(crd: KubeObject): JsonObject[] {
  const versions = specOf(crd).versions;
  return Array.isArray(versions) ? (versions.filter(isJsonObject) as JsonObject[]) : [];
}

function isEstablished(crd: KubeObject): boolean {
  const status = isJsonObject(crd.status) ? crd.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as JsonObject[]) : [];
  return conditions.some(
    (condition) => condition.type === 'Established' && condition.status === 'True',
  );
}

/** The resource types a CRD defines, one per served version. */
export function typesOf(crd: KubeObject): ResourceType[] {
  const spec = specOf(crd);
  const names = isJsonObject(spec.names) ? spec.names : {};
  const kind = String(names.kind ?? '');
  const plural = String(names.plural ?? '');
  if (!kind || !plural || typeof spec.group !== 'string') return [];
  return servedVersionsOf(crd)
    .filter((version) => version.served !== false)
    .map((version) => ({
      group: spec.group as string,
      version: String(version.name),
      resource: plural,
      singular: String(names.singular ?? kind.toLowerCase()),
      kind,
      namespaced: spec.scope !== 'Cluster',
      shortNames: (names.shortNames ?? []) as string[],
      hasStatus: isJsonObject(version.subresources) && isJsonObject(version.subresources.status),
      categories: (names.categories ?? []) as string[],
      custom: true,
    }));
}
