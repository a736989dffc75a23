import { cloneJson, isJsonObject, jsonEqual, type Json } from '../objects.ts';

/** A JSON patch (RFC 6902) operation could not be read or applied; says which and why. */
export class JsonPatchError extends Error {
  constructor(
    message: string,
    readonly malformed = false,
  ) {
    super(message);
  }
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

/** Applies a JSON patch document (RFC 6902) to a copy of `document`. */
export function applyJsonPatch(document: Json, patch: unknown): Json {
  const operations = readOperations(patch);
  let result = cloneJson(document);
  for (const operation of operations) result = applyOperation(result, operation);
  return result;
}

function readOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw new JsonPatchError('a JSON patch must be an array', true);
  return patch.map((operation, index) => {
    const valid = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
    if (!isJsonObject(operation) || typeof operation.path !== 'string') {
      throw new JsonPatchError(`operation ${index} has no "path"`, true);
    }
    if (typeof operation.op !== 'string' || !valid.includes(operation.op)) {
      throw new JsonPatchError(`operation ${index} has an unknown "op"`, true);
    }
    const needsValue = ['add', 'replace', 'test'].includes(operation.op);
    if (needsValue && !('value' in operation)) {
      throw new JsonPatchError(`operation ${index} (${operation.op}) has no "value"`, true);
    }
    return operation as unknown as Operation;
  });
}

function applyOperation(document: Json, operation: Operation): Json {
  switch (operation.op) {
    case 'add':
      return add(document, pointer(operation.path), cloneJson(operation.value!));
    case 'remove':
      return remove(document, pointer(operation.path));
    case 'replace':
      return add(
        remove(document, pointer(operation.path)),
        pointer(operation.path),
        operation.value!,
      );
    case 'move': {
      const from = pointer(requiredFrom(operation));
      const value = read(document, from);
      return add(remove(document, from), pointer(operation.path), value);
    }
    case 'copy':
      return add(
        document,
        pointer(operation.path),
        cloneJson(read(document, pointer(requiredFrom(operation)))),
      );
    case 'test':
      if (!jsonEqual(read(document, pointer(operation.path)), operation.value)) {
        throw new JsonPatchError(`test failed at "${operation.path}"`);
      }
      return document;
  }
}

function requiredFrom(operation: Operation): string {
  if (typeof operation.from !== 'string') {
    throw new JsonPatchError(`"${operation.op}" needs "from"`, true);
  }
  return operation.from;
}

/** Splits a JSON pointer (RFC 6901) into unescaped tokens. */
function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new JsonPatchError(`"${path}" is not a JSON pointer`, true);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function read(document: Json, tokens: string[]): Json {
  let current: Json = document;
  for (const token of tokens) {
    const next = child(current, token);
    if (next === undefined) throw new JsonPatchError(`path "/${tokens.join('/')}" does not exist`);
    current = next;
  }
  return current;
}

function child(container: Json, token: string): Json | undefined {
  if (Array.isArray(container)) return container[arrayIndex(token, container.length - 1)];
  if (isJsonObject(container))
    return Object.hasOwn(container, token) ? container[token] : undefined;
  return undefined;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) > max) {
    throw new JsonPatchError(`array index "${token}" is out of range`);
  }
  return Number(token);
}

function add(document: Json, tokens: string[], value: Json): Json {
  if (tokens.length === 0) return value;
  const parent = read(document, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : arrayIndex(last, parent.length);
    parent.splice(index, 0, value);
  } else if (isJsonObject(parent)) {
    parent[last] = value;
  } else {
    throw new JsonPatchError(`cannot add below a value at "/${tokens.slice(0, -1).join('/')}"`);
  }
  return document;
}

function remove(document: Json, tokens: string[]): Json {
  if (tokens.length === 0) return null;
  const parent = read(document, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length - 1), 1);
  else if (isJsonObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new JsonPatchError(`path "/${tokens.join('/')}" does not exist`);
  return document;
}
