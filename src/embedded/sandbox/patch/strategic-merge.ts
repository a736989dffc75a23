import { cloneJson, isJsonObject, jsonEqual, type Json, type JsonObject } from '../objects.ts';
import { isSetList, mergeKeyOf } from './list-keys.ts';

/** A strategic merge patch could not be applied (bad directive or list item without its key). */
export class StrategicMergeError extends Error {}

const orderPrefix = '$setElementOrder/';
const deletePrimitivePrefix = '$deleteFromPrimitiveList/';

/**
 * Applies a strategic merge patch as kubectl sends it for built-in kinds (`kubectl edit`, `set
 * image`, client-side apply): maps merge, `null` deletes, lists with a merge key (containers,
 * volumes, env, ports, …) merge item by item, other lists are replaced. Honours the `$patch`,
 * `$retainKeys`, `$setElementOrder/` and `$deleteFromPrimitiveList/` directives.
 */
export function applyStrategicMergePatch(original: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const merged = mergeMap(isJsonObject(original) ? original : {}, patch);
  return merged ?? {};
}

// Returns undefined when the patch deletes the map itself (`$patch: delete`).
function mergeMap(original: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return withoutDirectives(patch);
  if (directive !== undefined)
    throw new StrategicMergeError(`unknown $patch directive "${String(directive)}"`);

  const result: JsonObject = { ...original };
  retainKeys(result, patch.$retainKeys);
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = mergeValue(key, result[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  applyPrimitiveDeletions(result, patch);
  applyElementOrder(result, patch);
  return result;
}

function mergeValue(field: string, original: Json | undefined, patch: Json): Json | undefined {
  if (isJsonObject(patch)) return mergeMap(isJsonObject(original) ? original : {}, patch);
  if (Array.isArray(patch)) return mergeList(field, Array.isArray(original) ? original : [], patch);
  return patch;
}

function mergeList(field: string, original: Json[], patch: Json[]): Json[] {
  if (patch.some((item) => isJsonObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isJsonObject(item) && item.$patch === 'replace'));
  }
  if (isSetList(field)) {
    const result = [...original];
    for (const item of patch)
      if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
    return result;
  }
  const key = mergeKeyOf(field, [...patch, ...original]);
  if (!key) return cloneJson(patch);
  return mergeKeyedList(field, key, original, patch);
}

function mergeKeyedList(field: string, key: string, original: Json[], patch: Json[]): Json[] {
  const result = [...original];
  for (const item of patch) {
    if (!isJsonObject(item) || item[key] === undefined) {
      throw new StrategicMergeError(`an item of "${field}" has no merge key "${key}"`);
    }
    const index = result.findIndex(
      (existing) => isJsonObject(existing) && existing[key] === item[key],
    );
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const existing = index >= 0 ? result[index] : undefined;
    const merged = mergeMap(isJsonObject(existing) ? existing : {}, item);
    if (index >= 0) result[index] = merged!;
    else result.push(merged!);
  }
  return result;
}

function retainKeys(result: JsonObject, retain: Json | undefined): void {
  if (retain === undefined) return;
  if (!Array.isArray(retain)) throw new StrategicMergeError('$retainKeys must be a list');
  for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
}

function applyPrimitiveDeletions(result: JsonObject, patch: JsonObject): void {
  for (const [directive, values] of Object.entries(patch)) {
    if (!directive.startsWith(deletePrimitivePrefix) || !Array.isArray(values)) continue;
    const field = directive.slice(deletePrimitivePrefix.length);
    const list = result[field];
    if (Array.isArray(list))
      result[field] = list.filter((item) => !values.some((value) => jsonEqual(value, item)));
  }
}

// `$setElementOrder/containers: [{name: b}, {name: a}]` orders the merged list; items the
// order does not mention keep their place after the ordered ones.
function applyElementOrder(result: JsonObject, patch: JsonObject): void {
  for (const [directive, order] of Object.entries(patch)) {
    if (!directive.startsWith(orderPrefix) || !Array.isArray(order)) continue;
    const field = directive.slice(orderPrefix.length);
    const list = result[field];
    if (!Array.isArray(list)) continue;
    const key = mergeKeyOf(field, list);
    const identity = (item: Json): Json => (key && isJsonObject(item) ? (item[key] ?? null) : item);
    const rank = (item: Json): number => {
      const position = order.findIndex((entry) => jsonEqual(identity(entry), identity(item)));
      return position < 0 ? order.length : position;
    };
    result[field] = [...list].sort((left, right) => rank(left) - rank(right));
  }
}

function withoutDirectives(patch: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) if (!key.startsWith('$')) result[key] = value;
  return result;
}
