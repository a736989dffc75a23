import { mediaTypeOf, parseBody, readBody } from './body.ts';
import { sendJson, type ResourceRequest, type SandboxContext } from './context.ts';
import { commitUpdate } from './lifecycle.ts';
import { cloneJson, isJsonObject, type Json, type JsonObject, type KubeObject } from './objects.ts';
import { applyJsonPatch, JsonPatchError } from './patch/json-patch.ts';
import { applyMergePatch } from './patch/merge-patch.ts';
import { storageKeyOf, type ResourceType } from './resources.ts';
import { requirementsOf, type LabelSelectorObject } from './selectors.ts';
import { badRequest, conflict, invalid, notFound, SandboxApiError } from './status.ts';

const scalableKinds = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Whether a type serves the `/scale` subresource (autoscaling/v1 Scale). */
export function hasScale(type: ResourceType): boolean {
  return !type.custom && type.group === 'apps' && scalableKinds.has(type.kind);
}

/** GET `.../<name>/scale`: the object's replicas as an autoscaling/v1 Scale. */
export function getScale(context: SandboxContext, request: ResourceRequest): void {
  sendJson(request.response, 200, scaleOf(existingOf(context, request)));
}

/**
 * PUT or PATCH `.../<name>/scale` (what `kubectl scale` sends): sets `spec.replicas` of the
 * object, which bumps its generation so that the simulated rollout follows the new count.
 */
export async function updateScale(
  context: SandboxContext,
  request: ResourceRequest,
): Promise<void> {
  const mediaType = mediaTypeOf(request.request);
  const body = parseBody(await readBody(request.request), mediaType);
  const existing = existingOf(context, request);
  const current = scaleOf(existing);
  const desired = request.request.method === 'PUT' ? body : patchedScale(current, mediaType, body);
  if (!isJsonObject(desired)) throw badRequest('the body of the request is not a Scale object');

  const { type } = request.target;
  const metadata = isJsonObject(desired.metadata) ? desired.metadata : {};
  const requestedVersion = metadata.resourceVersion;
  if (requestedVersion && requestedVersion !== existing.metadata.resourceVersion)
    throw conflict(type.resource, type.group, existing.metadata.name);
  const replicas = replicasOf(desired, existing.metadata.name);

  const spec = isJsonObject(existing.spec) ? existing.spec : {};
  const next = cloneJson(existing as unknown as Json) as unknown as KubeObject;
  next.spec = { ...spec, replicas };
  const updated = await commitUpdate(context, request, existing, next, { managed: false });
  sendJson(request.response, 200, scaleOf(updated));
}

function existingOf(context: SandboxContext, request: ResourceRequest): KubeObject {
  const { type, namespace, name } = request.target;
  const stored = context.store.get(storageKeyOf(type), namespace, name!);
  if (!stored) throw notFound(type.resource, type.group, name!);
  return stored.object;
}

function patchedScale(current: JsonObject, mediaType: string, patch: Json): Json {
  switch (mediaType) {
    // A Scale has no lists, so a strategic merge patch merges as a JSON merge patch does.
    case 'application/merge-patch+json':
    case 'application/strategic-merge-patch+json':
      return applyMergePatch(cloneJson(current), patch);
    case 'application/json-patch+json':
      try {
        return applyJsonPatch(cloneJson(current), patch);
      } catch (error) {
        if (error instanceof JsonPatchError)
          throw badRequest(`the JSON patch is malformed: ${error.message}`);
        throw error;
      }
    default:
      throw new SandboxApiError(
        'UnsupportedMediaType',
        `the media type ${mediaType} is not supported on the scale subresource: use a merge patch or PUT`,
      );
  }
}

function replicasOf(scale: JsonObject, name: string): number {
  const spec = isJsonObject(scale.spec) ? scale.spec : {};
  const replicas = spec.replicas ?? 0;
  if (typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0) return replicas;
  throw invalid('Scale', 'autoscaling', name, [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.replicas',
      message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    },
  ]);
}

/** The autoscaling/v1 Scale of a workload: desired replicas, observed replicas and selector. */
export function scaleOf(object: KubeObject): JsonObject {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  const status = isJsonObject(object.status) ? object.status : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(creationTimestamp ? { creationTimestamp } : {}),
    },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: {
      replicas: typeof status.replicas === 'number' ? status.replicas : 0,
      selector: selectorText(spec.selector as LabelSelectorObject | undefined),
    },
  };
}

// The label selector in its query-string form, as Scale.status.selector carries it.
function selectorText(selector: LabelSelectorObject | undefined): string {
  return requirementsOf(selector)
    .map(({ key, operator, values }) => {
      if (operator === 'Exists') return key;
      if (operator === 'DoesNotExist') return `!${key}`;
      if (operator === 'In' && values.length === 1) return `${key}=${values[0]}`;
      return `${key} ${operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`;
    })
    .join(',');
}
