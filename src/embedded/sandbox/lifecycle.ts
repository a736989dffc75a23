import { randomBytes, randomUUID } from 'node:crypto';
import type { FieldScope } from './apply/field-set.ts';
import { recordUpdate, type WriterRef } from './apply/managed-fields.ts';
import {
  fieldManagerOf,
  isDryRun,
  timestamp,
  type ResourceRequest,
  type SandboxContext,
} from './context.ts';
import { jsonEqual, type KubeObject } from './objects.ts';
import { groupVersionOf, storageKeyOf, type ResourceType } from './resources.ts';
import { alreadyExists, conflict, notFound, SandboxApiError } from './status.ts';
import { enforceFieldValidation } from './openapi/field-validation.ts';
import { validateObject } from './validation.ts';

/** Who writes, for managedFields. */
export function writerOf(request: ResourceRequest): WriterRef {
  const { subresource: requested } = request.target;
  const subresource = requested === 'status' || requested === 'scale' ? requested : undefined;
  return {
    manager: fieldManagerOf(request),
    apiVersion: groupVersionOf(request.target.type),
    subresource,
    time: timestamp(),
  };
}

/** The part of the object a write may change: status only through the status subresource. */
export function scopeOf(request: ResourceRequest): FieldScope {
  if (request.target.subresource === 'status') return 'status';
  return request.target.type.hasStatus ? 'main' : 'all';
}

/** The status a type starts with, set by the server as the API server's create strategies do. */
function initialStatus(type: ResourceType): Record<string, unknown> | undefined {
  if (type.kind === 'Namespace') return { phase: 'Active' };
  if (type.kind === 'Pod') return { phase: 'Pending' };
  return undefined;
}

/**
 * Stores a new object: checks its namespace, name and validity, sets the server-owned metadata,
 * records the creator in managedFields (unless apply already did), asks admission, and stores
 * it unless the request is a dry run. Nothing is stored when any step refuses.
 */
export async function commitCreate(
  context: SandboxContext,
  request: ResourceRequest,
  object: KubeObject,
  options: { managed: boolean },
): Promise<KubeObject> {
  const { type } = request.target;
  if (!object.metadata.name && object.metadata.generateName) {
    object.metadata.name = `${object.metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
  }
  enforceFieldValidation(request.query, object, type, context.store);
  validateObject(type, object);
  requireWritableNamespace(context, type, object.metadata.namespace);
  if (context.store.get(storageKeyOf(type), object.metadata.namespace, object.metadata.name)) {
    throw alreadyExists(type.resource, type.group, object.metadata.name);
  }

  const metadata = object.metadata;
  delete metadata.resourceVersion;
  delete metadata.deletionTimestamp;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp();
  metadata.generation = 1;
  // The one create default clients can tell: a Secret without a type is Opaque.
  if (type.kind === 'Secret' && !object.type) object.type = 'Opaque';
  if (type.hasStatus) {
    const status = initialStatus(type);
    if (status) object.status = status;
    else delete object.status;
  }
  if (!options.managed) recordUpdate(undefined, object, writerOf(request), scopeOf(request));

  await context.admit({
    operation: 'CREATE',
    type,
    version: request.target.version,
    namespace: metadata.namespace,
    name: metadata.name,
    object,
    dryRun: isDryRun(request.query),
    username: 'sandbox-admin',
  });
  if (isDryRun(request.query)) return object;
  return context.store.put(storageKeyOf(type), object).object;
}

/**
 * Stores a changed object: optimistic concurrency on resourceVersion, server-owned metadata kept,
 * status written only through the status subresource, generation bumped when the spec changes,
 * managedFields updated, admission asked. An update that changes nothing is not written.
 */
export async function commitUpdate(
  context: SandboxContext,
  request: ResourceRequest,
  existing: KubeObject,
  next: KubeObject,
  options: { managed: boolean },
): Promise<KubeObject> {
  const { type } = request.target;
  const requested = next.metadata.resourceVersion;
  if (requested && requested !== existing.metadata.resourceVersion) {
    throw conflict(type.resource, type.group, existing.metadata.name);
  }

  const result =
    request.target.subresource === 'status' ? { ...existing, status: next.status } : next;
  if (request.target.subresource !== 'status' && type.hasStatus) {
    if (existing.status === undefined) delete result.status;
    else result.status = existing.status;
  }
  result.apiVersion = existing.apiVersion;
  result.kind = existing.kind;
  result.metadata = {
    ...(request.target.subresource === 'status' ? existing.metadata : next.metadata),
    name: existing.metadata.name,
    uid: existing.metadata.uid,
    creationTimestamp: existing.metadata.creationTimestamp,
    generation: (existing.metadata.generation ?? 1) + (specChanged(existing, result) ? 1 : 0),
    resourceVersion: existing.metadata.resourceVersion,
    managedFields: options.managed ? next.metadata.managedFields : existing.metadata.managedFields,
  };
  if (existing.metadata.namespace !== undefined)
    result.metadata.namespace = existing.metadata.namespace;
  if (existing.metadata.deletionTimestamp)
    result.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
  enforceFieldValidation(request.query, result, type, context.store);
  validateObject(type, result);
  if (!options.managed) recordUpdate(existing, result, writerOf(request), scopeOf(request));
  if (isUnchanged(existing, result)) return existing;

  await context.admit({
    operation: 'UPDATE',
    type,
    version: request.target.version,
    subresource: request.target.subresource,
    namespace: result.metadata.namespace,
    name: result.metadata.name,
    object: result,
    oldObject: existing,
    dryRun: isDryRun(request.query),
    username: 'sandbox-admin',
  });
  if (isDryRun(request.query)) return result;
  return context.store.put(storageKeyOf(type), result).object;
}

// Everything but metadata and status is the spec, for the purpose of `metadata.generation`.
function specChanged(before: KubeObject, after: KubeObject): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (key === 'metadata' || key === 'status' || key === 'apiVersion' || key === 'kind') continue;
    if (!jsonEqual(before[key], after[key])) return true;
  }
  return false;
}

// A write that changes nothing but managedFields timestamps is a no-op, as on a real server.
function isUnchanged(before: KubeObject, after: KubeObject): boolean {
  const strip = (object: KubeObject): KubeObject => ({
    ...object,
    metadata: {
      ...object.metadata,
      managedFields: (object.metadata.managedFields ?? []).map((entry) => ({ ...entry, time: '' })),
    },
  });
  return jsonEqual(strip(before), strip(after));
}

const protectedNamespaces = new Set(['default', 'kube-system', 'kube-public']);

/** Creating into a missing namespace is NotFound; into one being deleted is Forbidden. */
export function requireWritableNamespace(
  context: SandboxContext,
  type: ResourceType,
  namespace: string | undefined,
): void {
  if (!type.namespaced || namespace === undefined) return;
  const stored = context.store.get('/namespaces', undefined, namespace);
  if (!stored) throw notFound('namespaces', '', namespace);
  if (stored.object.metadata.deletionTimestamp) {
    const message = `${type.resource}${type.group ? `.${type.group}` : ''} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`;
    throw new SandboxApiError('Forbidden', message, { group: type.group, kind: type.resource });
  }
}

/** The namespaces every cluster has; deleting them is Forbidden. */
export function refuseProtectedNamespace(name: string): void {
  if (!protectedNamespaces.has(name)) return;
  throw new SandboxApiError(
    'Forbidden',
    `namespaces "${name}" is forbidden: this namespace may not be deleted`,
    { name, kind: 'namespaces' },
  );
}

/** Removes everything stored in a namespace (all namespaced types). */
export function deleteNamespaceContents(context: SandboxContext, namespace: string): void {
  for (const type of context.registry.all()) {
    if (!type.namespaced) continue;
    const storageKey = storageKeyOf(type);
    for (const stored of context.store.list(storageKey, namespace)) {
      context.store.remove(storageKey, namespace, stored.object.metadata.name);
    }
  }
}
