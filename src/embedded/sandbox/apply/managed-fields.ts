import {
  cloneJson,
  isJsonObject,
  jsonEqual,
  type Json,
  type JsonObject,
  type KubeObject,
  type ManagedFieldsEntry,
} from '../objects.ts';
import { isSetList } from '../patch/list-keys.ts';
import { SandboxApiError } from '../status.ts';
import {
  describePath,
  fieldSetOf,
  fromFieldsV1,
  keyedListKey,
  removeAt,
  splitPath,
  toFieldsV1,
  valueAt,
  type FieldScope,
} from './field-set.ts';

/** Who is writing: the field manager, the version it writes in, and the subresource. */
export interface WriterRef {
  manager: string;
  apiVersion: string;
  subresource?: 'status' | 'scale';
  /** The time recorded in managedFields, to the second as the API server writes it. */
  time: string;
}

interface Ownership {
  entry: ManagedFieldsEntry;
  paths: Set<string>;
}

/**
 * Server-side apply: merges the applied configuration into the live object, refuses with 409
 * Conflict where another manager owns a field with a different value (unless `force`, which
 * takes the field over), removes the fields this manager applied before and no longer applies
 * (when no one else owns them), and records ownership in `metadata.managedFields`.
 */
export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  writer: WriterRef,
  options: { force: boolean; scope: FieldScope },
): KubeObject {
  const appliedSet = fieldSetOf(applied as unknown as JsonObject, options.scope);
  const owners = ownershipOf(live);
  const mine = owners.find((owner) => isSameWriter(owner.entry, writer, 'Apply'));
  const others = owners.filter((owner) => owner !== mine);

  resolveConflicts(live, applied, appliedSet, others, writer, options.force);

  // A copy: pruning below must never touch the stored object.
  const base = cloneJson((live ?? {}) as unknown as JsonObject);
  const merged = applyInto(base, applied as unknown as JsonObject, '') as unknown as KubeObject;
  for (const path of mine?.paths ?? []) {
    if (appliedSet.has(path)) continue;
    if (others.some((owner) => owner.paths.has(path))) continue;
    removeAt(merged as unknown as JsonObject, path);
  }

  const entry = entryOf(writer, 'Apply', appliedSet);
  merged.metadata.managedFields = [...others.map((owner) => withPaths(owner)), entry].filter(
    (candidate) => Object.keys(candidate.fieldsV1).length > 0,
  );
  return merged;
}

function resolveConflicts(
  live: KubeObject | undefined,
  applied: KubeObject,
  appliedSet: Set<string>,
  others: Ownership[],
  writer: WriterRef,
  force: boolean,
): void {
  const conflicts: { manager: string; apiVersion: string; path: string }[] = [];
  for (const owner of others) {
    if (owner.entry.manager === writer.manager) continue;
    for (const path of owner.paths) {
      if (!appliedSet.has(path) || splitPath(path).at(-1) === '.') continue;
      const liveValue = valueAt(live as unknown as Json, path);
      if (jsonEqual(liveValue, valueAt(applied as unknown as Json, path))) continue;
      if (force) owner.paths.delete(path);
      else
        conflicts.push({ manager: owner.entry.manager, apiVersion: owner.entry.apiVersion, path });
    }
  }
  if (conflicts.length > 0) throw conflictError(conflicts);
}

function conflictError(
  conflicts: { manager: string; apiVersion: string; path: string }[],
): SandboxApiError {
  const count = `${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}`;
  const lines = conflicts.map(
    (conflict) =>
      `conflict with "${conflict.manager}" using ${conflict.apiVersion}: ${describePath(conflict.path)}`,
  );
  const message = `Apply failed with ${count}: ${lines.join('\n')}`;
  return new SandboxApiError('Conflict', message, {
    causes: conflicts.map((conflict) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${conflict.manager}" using ${conflict.apiVersion}`,
      field: describePath(conflict.path),
    })),
  });
}

/**
 * Records an update (create, replace or patch) in managedFields: the writer takes ownership of
 * every field it added or changed, and fields it removed leave every manager's set.
 */
export function recordUpdate(
  previous: KubeObject | undefined,
  next: KubeObject,
  writer: WriterRef,
  scope: FieldScope,
): void {
  const before = previous
    ? fieldSetOf(previous as unknown as JsonObject, scope)
    : new Set<string>();
  const after = fieldSetOf(next as unknown as JsonObject, scope);
  const changed = new Set<string>();
  for (const path of after) {
    if (
      !before.has(path) ||
      !jsonEqual(valueAt(previous as unknown as Json, path), valueAt(next as unknown as Json, path))
    ) {
      changed.add(path);
    }
  }
  const removed = [...before].filter((path) => !after.has(path));

  const owners = ownershipOf(previous);
  let mine = owners.find((owner) => isSameWriter(owner.entry, writer, 'Update'));
  if (!mine && changed.size === 0) {
    next.metadata.managedFields = owners
      .map(withPaths)
      .filter((entry) => Object.keys(entry.fieldsV1).length > 0);
    return;
  }
  mine ??= { entry: entryOf(writer, 'Update', []), paths: new Set() };
  for (const owner of owners) {
    for (const path of removed) owner.paths.delete(path);
    if (owner !== mine) for (const path of changed) owner.paths.delete(path);
  }
  for (const path of changed) mine.paths.add(path);
  mine.entry = { ...mine.entry, time: writer.time, apiVersion: writer.apiVersion };

  const entries = owners.includes(mine) ? owners : [...owners, mine];
  next.metadata.managedFields = entries
    .map(withPaths)
    .filter((entry) => Object.keys(entry.fieldsV1).length > 0);
}

function ownershipOf(object: KubeObject | undefined): Ownership[] {
  return (object?.metadata.managedFields ?? []).map((entry) => ({
    entry,
    paths: fromFieldsV1(entry.fieldsV1),
  }));
}

function isSameWriter(
  entry: ManagedFieldsEntry,
  writer: WriterRef,
  operation: 'Apply' | 'Update',
): boolean {
  return (
    entry.manager === writer.manager &&
    entry.operation === operation &&
    (entry.subresource ?? '') === (writer.subresource ?? '')
  );
}

function entryOf(
  writer: WriterRef,
  operation: 'Apply' | 'Update',
  paths: Iterable<string>,
): ManagedFieldsEntry {
  return {
    manager: writer.manager,
    operation,
    apiVersion: writer.apiVersion,
    time: writer.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(paths),
    ...(writer.subresource ? { subresource: writer.subresource } : {}),
  };
}

function withPaths(owner: Ownership): ManagedFieldsEntry {
  return { ...owner.entry, fieldsV1: toFieldsV1(owner.paths) };
}

// Merges an applied configuration into a live value: maps member by member, keyed lists item
// by item, set lists as a union, anything else replaced. `null` removes a member.
function applyInto(live: Json | undefined, applied: Json, field: string): Json {
  if (isJsonObject(applied)) {
    const result: JsonObject = isJsonObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete result[key];
      else result[key] = applyInto(result[key], value, key);
    }
    return result;
  }
  if (Array.isArray(applied)) return applyList(Array.isArray(live) ? live : [], applied, field);
  return applied;
}

function applyList(live: Json[], applied: Json[], field: string): Json[] {
  if (isSetList(field))
    return [
      ...live,
      ...applied.filter((item) => !live.some((existing) => jsonEqual(existing, item))),
    ];
  const key = keyedListKey(field, applied);
  if (!key || keyedListKey(field, live) !== key) return cloneJson(applied);
  const result = [...live];
  for (const item of applied as JsonObject[]) {
    const index = result.findIndex((existing) => (existing as JsonObject)[key] === item[key]);
    if (index >= 0) result[index] = applyInto(result[index], item, '');
    else result.push(cloneJson(item));
  }
  return result;
}
