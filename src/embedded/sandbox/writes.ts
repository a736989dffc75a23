import { serverSideApply } from './apply/managed-fields.ts';
import { mediaTypeOf, parseBody, readBody } from './body.ts';
import {
  asServedVersion,
  isDryRun,
  sendJson,
  type ResourceRequest,
  type SandboxContext,
} from './context.ts';
import {
  commitCreate,
  commitUpdate,
  deleteNamespaceContents,
  refuseProtectedNamespace,
  scopeOf,
  writerOf,
} from './lifecycle.ts';
import { cloneJson, isJsonObject, type Json, type KubeObject } from './objects.ts';
import { applyJsonPatch, JsonPatchError } from './patch/json-patch.ts';
import { applyMergePatch } from './patch/merge-patch.ts';
import { applyStrategicMergePatch, StrategicMergeError } from './patch/strategic-merge.ts';
import { groupVersionOf, storageKeyOf, type ResourceType } from './resources.ts';
import { matchesFilter, parseFilter } from './selectors.ts';
import { badRequest, conflict, notFound, SandboxApiError, successStatus } from './status.ts';

/** POST to a collection: create. */
export async function createObject(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const object = objectFromBody(
    request,
    parseBody(await readBody(request.request), mediaTypeOf(request.request)),
  );
  const namespace = request.target.namespace;
  if (request.target.type.namespaced) {
    if (object.metadata.namespace && namespace && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    object.metadata.namespace = namespace ?? object.metadata.namespace;
  } else {
    delete object.metadata.namespace;
  }
  const created = await commitCreate(context, request, object, { managed: false });
  sendJson(request.response, 201, asServedVersion(created, groupVersionOf(request.target.type)));
}

/** PUT to an object: replace (optimistic on resourceVersion when the body carries one). */
export async function replaceObject(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const object = objectFromBody(
    request,
    parseBody(await readBody(request.request), mediaTypeOf(request.request)),
  );
  const existing = existingOrNotFound(context, request);
  if (object.metadata.name !== request.target.name) {
    throw badRequest(
      `the name of the object (${object.metadata.name}) does not match the name on the URL (${request.target.name})`,
    );
  }
  const updated = await commitUpdate(context, request, existing, object, { managed: false });
  sendJson(request.response, 200, asServedVersion(updated, groupVersionOf(request.target.type)));
}

/** PATCH: JSON patch, merge patch, strategic merge patch or server-side apply, by media type. */
export async function patchObject(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const mediaType = mediaTypeOf(request.request);
  const body = parseBody(await readBody(request.request), mediaType);
  let result: KubeObject;
  let code = 200;
  if (mediaType === 'application/apply-patch+yaml') {
    const { type, namespace, name } = request.target;
    if (!context.store.get(storageKeyOf(type), namespace, name!)) code = 201;
    result = await applyObject(context, request, body);
  } else {
    const existing = existingOrNotFound(context, request);
    const next = patched(request.target.type, existing, mediaType, body);
    result = await commitUpdate(context, request, existing, next, { managed: false });
  }
  sendJson(request.response, code, asServedVersion(result, groupVersionOf(request.target.type)));
}

function patched(
  type: ResourceType,
  existing: KubeObject,
  mediaType: string,
  patch: Json,
): KubeObject {
  const original = cloneJson(existing as unknown as Json);
  let result: Json;
  try {
    if (mediaType === 'application/json-patch+json') result = applyJsonPatch(original, patch);
    else if (mediaType === 'application/merge-patch+json')
      result = applyMergePatch(original, patch);
    else if (mediaType === 'application/strategic-merge-patch+json') {
      if (type.custom)
        throw new SandboxApiError(
          'UnsupportedMediaType',
          'strategic merge patch is not supported for custom resources: use a merge patch or server-side apply',
        );
      result = applyStrategicMergePatch(original, patch);
    } else {
      throw new SandboxApiError(
        'UnsupportedMediaType',
        `the media type ${mediaType} is not a supported patch type`,
      );
    }
  } catch (error) {
    if (error instanceof JsonPatchError) {
      if (error.malformed) throw badRequest(`the JSON patch is malformed: ${error.message}`);
      throw new SandboxApiError('Invalid', `the patch could not be applied: ${error.message}`);
    }
    if (error instanceof StrategicMergeError)
      throw badRequest(`the strategic merge patch could not be applied: ${error.message}`);
    throw error;
  }
  if (!isJsonObject(result) || !isJsonObject(result.metadata))
    throw new SandboxApiError('Invalid', "the patch removed the object's metadata");
  const object = result as unknown as KubeObject;
  if (object.metadata.name !== existing.metadata.name)
    throw badRequest('the patch may not change metadata.name');
  return object;
}

function existingOrNotFound(context: SandboxContext, request: ResourceRequest): KubeObject {
  const { type, namespace, name } = request.target;
  const stored = context.store.get(storageKeyOf(type), namespace, name!);
  if (!stored) throw notFound(type.resource, type.group, name!);
  return stored.object;
}

/** Server-side apply: creates the object when absent, else merges with field ownership. */
async function applyObject(
  context: SandboxContext,
  request: ResourceRequest,
  body: Json,
): Promise<KubeObject> {
  if (!request.query.get('fieldManager'))
    throw badRequest('PATCH: fieldManager is required for apply requests');
  const applied = objectFromBody(request, body);
  const { type, namespace, name } = request.target;
  if (applied.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  if (type.namespaced) applied.metadata.namespace = namespace;
  for (const field of ['managedFields', 'uid', 'creationTimestamp', 'generation'] as const)
    delete applied.metadata[field];
  if (type.hasStatus && request.target.subresource !== 'status') delete applied.status;

  const existing = context.store.get(storageKeyOf(type), namespace, name!)?.object;
  const force = request.query.get('force') === 'true';
  const merged = serverSideApply(existing, applied, writerOf(request), {
    force,
    scope: scopeOf(request),
  });
  if (!existing) return commitCreate(context, request, merged, { managed: true });
  return commitUpdate(context, request, existing, merged, { managed: true });
}

/** DELETE of one object; a namespace takes its contents with it. */
export async function deleteObject(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const { type, namespace, name } = request.target;
  const storageKey = storageKeyOf(type);
  const existing = context.store.get(storageKey, namespace, name!);
  if (!existing) throw notFound(type.resource, type.group, name!);
  await checkPreconditions(request, existing.object);
  if (type.kind === 'Namespace') refuseProtectedNamespace(name!);

  if (isDryRun(request.query)) return sendJson(request.response, 200, existing.json);
  if (type.kind === 'Namespace') deleteNamespaceContents(context, name!);
  const removed = context.store.remove(storageKey, namespace, name!)!;
  sendJson(request.response, 200, removed.json);
}

/** DELETE of a collection, narrowed by label and field selectors. */
export async function deleteCollection(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const { type, namespace } = request.target;
  const filter = parseFilter(request.query);
  const storageKey = storageKeyOf(type);
  const doomed = context.store
    .list(storageKey, namespace)
    .filter((stored) => matchesFilter(filter, stored.object));
  if (type.kind === 'Namespace')
    for (const stored of doomed) refuseProtectedNamespace(stored.object.metadata.name);
  if (!isDryRun(request.query)) {
    for (const stored of doomed) {
      if (type.kind === 'Namespace') deleteNamespaceContents(context, stored.object.metadata.name);
      context.store.remove(
        storageKey,
        stored.object.metadata.namespace,
        stored.object.metadata.name,
      );
    }
  }
  sendJson(request.response, 200, successStatus({ kind: type.resource, group: type.group }));
}

async function checkPreconditions(request: ResourceRequest, existing: KubeObject): Promise<void> {
  const raw = await readBody(request.request);
  if (raw.length === 0) return;
  const options = parseBody(raw, mediaTypeOf(request.request));
  const preconditions =
    isJsonObject(options) && isJsonObject(options.preconditions) ? options.preconditions : {};
  const { type } = request.target;
  if (typeof preconditions.uid === 'string' && preconditions.uid !== existing.metadata.uid)
    throw conflict(type.resource, type.group, existing.metadata.name);
  if (
    typeof preconditions.resourceVersion === 'string' &&
    preconditions.resourceVersion !== existing.metadata.resourceVersion
  ) {
    throw conflict(type.resource, type.group, existing.metadata.name);
  }
}

/**
 * Reads a body as an object of the addressed type: it must be a JSON object whose apiVersion
 * and kind, when given, are the ones the path names.
 */
function objectFromBody(request: ResourceRequest, body: Json): KubeObject {
  const { type } = request.target;
  if (!isJsonObject(body)) throw badRequest(`the body of the request is not a ${type.kind} object`);
  const apiVersion = type.group
    ? `${type.group}/${request.target.version}`
    : request.target.version;
  const kind =
    request.target.subresource === 'status' && body.kind === undefined ? type.kind : body.kind;
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (kind !== undefined && kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${String(kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  const metadata = isJsonObject(body.metadata) ? body.metadata : {};
  return { ...body, apiVersion: apiVersion, kind: type.kind, metadata } as unknown as KubeObject;
}
