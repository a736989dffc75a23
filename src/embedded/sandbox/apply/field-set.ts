import { isJsonObject, type FieldsV1, type Json, type JsonObject } from '../objects.ts';
import { isSetList, mergeKeyOf } from '../patch/list-keys.ts';

/*
 * Field sets as server-side apply tracks them. A path is a list of FieldsV1 elements joined by
 * NUL: `f:<field>` for a map member, `k:{"name":"web"}` for a keyed list item, `v:"x"` for a
 * value of a set list and `.` for a list item as a whole. A set holds leaf paths only.
 */
const separator = '\u0000';

/** Which part of an object a field set covers: the main resource or its status subresource. */
export type FieldScope = 'main' | 'status' | 'all';

export function joinPath(elements: string[]): string {
  return elements.join(separator);
}

export function splitPath(path: string): string[] {
  return path.split(separator);
}

// Metadata members that belong to the user; the rest is written by the server.
const ownedMetadata = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/** The leaf paths set in an object, limited to a scope. */
export function fieldSetOf(object: JsonObject, scope: FieldScope): Set<string> {
  const paths = new Set<string>();
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (scope === 'main' && key === 'status') continue;
    if (scope === 'status' && key !== 'status') continue;
    if (key === 'metadata' && isJsonObject(value)) {
      for (const member of ownedMetadata) {
        const metadataValue = value[member];
        if (metadataValue !== undefined)
          walk(metadataValue, ['f:metadata', `f:${member}`], member, paths);
      }
      continue;
    }
    walk(value, [`f:${key}`], key, paths);
  }
  return paths;
}

function walk(value: Json, prefix: string[], field: string, paths: Set<string>): void {
  if (isJsonObject(value) && Object.keys(value).length > 0) {
    for (const [key, member] of Object.entries(value))
      walk(member, [...prefix, `f:${key}`], key, paths);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const key = keyedListKey(field, value);
    if (key) {
      for (const item of value as JsonObject[]) {
        const itemPrefix = [...prefix, itemElement(key, item)];
        paths.add(joinPath([...itemPrefix, '.']));
        for (const [member, memberValue] of Object.entries(item)) {
          walk(memberValue, [...itemPrefix, `f:${member}`], member, paths);
        }
      }
      return;
    }
    if (isSetList(field)) {
      for (const item of value) paths.add(joinPath([...prefix, `v:${JSON.stringify(item)}`]));
      return;
    }
  }
  paths.add(joinPath(prefix));
}

/** The merge key of a list when every item carries it; otherwise the list is atomic. */
export function keyedListKey(field: string, list: Json[]): string | undefined {
  const key = mergeKeyOf(field, list);
  if (!key) return undefined;
  return list.every((item) => isJsonObject(item) && item[key] !== undefined) ? key : undefined;
}

export function itemElement(key: string, item: JsonObject): string {
  return `k:${JSON.stringify({ [key]: item[key] })}`;
}

/** The value at a path, `undefined` when absent; `.` yields the list item itself. */
export function valueAt(object: Json, path: string): Json | undefined {
  let current: Json | undefined = object;
  for (const element of splitPath(path)) {
    if (current === undefined) return undefined;
    current = step(current, element);
  }
  return current;
}

function step(current: Json, element: string): Json | undefined {
  if (element === '.') return current;
  if (element.startsWith('f:'))
    return isJsonObject(current) ? current[element.slice(2)] : undefined;
  if (!Array.isArray(current)) return undefined;
  if (element.startsWith('k:')) {
    const keys = JSON.parse(element.slice(2)) as JsonObject;
    return current.find((item) => isJsonObject(item) && matchesKeys(item, keys));
  }
  if (element.startsWith('v:')) {
    const wanted = element.slice(2);
    return current.find((item) => JSON.stringify(item) === wanted);
  }
  return undefined;
}

function matchesKeys(item: JsonObject, keys: JsonObject): boolean {
  return Object.entries(keys).every(([key, value]) => item[key] === value);
}

/** Removes the value at a path (a `.` path removes the whole list item). */
export function removeAt(object: JsonObject, path: string): void {
  const elements = splitPath(path);
  if (elements[elements.length - 1] === '.') elements.pop();
  const last = elements.pop();
  if (last === undefined) return;
  const parent = valueAt(object, joinPath(elements));
  if (last.startsWith('f:') && isJsonObject(parent)) {
    delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const index = parent.findIndex((item) => step([item], last) !== undefined);
    if (index >= 0) parent.splice(index, 1);
  }
}

/** Renders a set as the FieldsV1 tree stored in `managedFields`. */
export function toFieldsV1(paths: Iterable<string>): FieldsV1 {
  const root: FieldsV1 = {};
  for (const path of paths) {
    let node = root;
    for (const element of splitPath(path)) node = node[element] ??= {};
  }
  return root;
}

/** Reads the leaf paths of a FieldsV1 tree. */
export function fromFieldsV1(tree: FieldsV1 | undefined): Set<string> {
  const paths = new Set<string>();
  const visit = (node: FieldsV1, prefix: string[]): void => {
    const entries = Object.entries(node);
    if (entries.length === 0 && prefix.length > 0) paths.add(joinPath(prefix));
    for (const [element, child] of entries) visit(child, [...prefix, element]);
  };
  if (tree) visit(tree, []);
  return paths;
}

/** `.spec.template.spec.containers[name="web"].image` — how conflicts name a field. */
export function describePath(path: string): string {
  return splitPath(path)
    .filter((element) => element !== '.')
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('v:')) return `[${element.slice(2)}]`;
      const keys = JSON.parse(element.slice(2)) as JsonObject;
      const parts = Object.entries(keys).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
      return `[${parts.join(',')}]`;
    })
    .join('');
}
