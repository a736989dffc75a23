/**
 * JSON Canonicalization Scheme (RFC 8785): object keys sorted by UTF-16 code units, no
 * whitespace, numbers in ECMAScript shortest form, strings escaped as JSON.stringify does
 * (which matches the RFC for well-formed strings). Values JSON cannot carry are refused rather
 * than silently dropped, because a hash over a silently changed value proves nothing.
 */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalizationError extends Error {}

export function canonicalize(value: unknown): string {
  return serialize(value, '$');
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError(`${path}: number is not finite`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object':
      return Array.isArray(value) ? serializeArray(value, path) : serializeObject(value, path);
    default:
      throw new CanonicalizationError(`${path}: ${typeof value} is not JSON`);
  }
}

function serializeArray(items: unknown[], path: string): string {
  return `[${items.map((item, index) => serialize(item, `${path}[${index}]`)).join(',')}]`;
}

function serializeObject(object: object, path: string): string {
  if (object instanceof Date) return JSON.stringify(object.toISOString());
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new CanonicalizationError(`${path}: ${prototype?.constructor?.name} is not plain JSON`);
  }
  const entries = Object.entries(object).filter(([, v]) => v !== undefined);
  // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const members = entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v, `${path}.${k}`)}`);
  return `{${members.join(',')}}`;
}
