import { isJsonObject, type Json, type JsonObject, type KubeObject } from '../objects.ts';
import type { ResourceType } from '../resources.ts';
import { badRequest } from '../status.ts';
import type { ObjectStore } from '../store.ts';
import { builtinSchemas, genericTypeSchema, typeSchemaName } from './document.ts';

let components: JsonObject | undefined;

function resolve(schema: JsonObject): JsonObject {
  components ??= builtinSchemas();
  const target =
    Array.isArray(schema.allOf) && isJsonObject(schema.allOf[0]) ? schema.allOf[0] : schema;
  const reference = target.$ref;
  if (typeof reference !== 'string') return schema;
  const resolved = components[reference.replace('#/components/schemas/', '')];
  return isJsonObject(resolved) ? resolved : {};
}

/** The paths of fields the type's schema does not declare, e.g. `spec.replicaz`. */
export function unknownFields(
  object: KubeObject,
  type: ResourceType,
  store: ObjectStore,
): string[] {
  components ??= builtinSchemas();
  const name = typeSchemaName(type);
  const schema = isJsonObject(components[name]) ? components[name] : genericTypeSchema(type, store);
  const found: string[] = [];
  walk(object as unknown as Json, schema, '', found);
  return found;
}

function walk(value: Json, rawSchema: JsonObject, path: string, found: string[]): void {
  const schema = resolve(rawSchema);
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    if (!isJsonObject(schema.items)) return;
    value.forEach((item, index) =>
      walk(item, schema.items as JsonObject, `${path}[${index}]`, found),
    );
    return;
  }
  if (!isJsonObject(value)) return;
  const properties = isJsonObject(schema.properties) ? schema.properties : undefined;
  const additional = schema.additionalProperties;
  for (const [key, member] of Object.entries(value)) {
    const memberPath = path ? `${path}.${key}` : key;
    const memberSchema = properties?.[key];
    if (isJsonObject(memberSchema)) walk(member, memberSchema, memberPath, found);
    else if (isJsonObject(additional)) walk(member, additional, memberPath, found);
    else if (properties && additional !== true) found.push(memberPath);
  }
}

/**
 * `fieldValidation=Strict` (kubectl's default): refuses an object with fields its schema does
 * not declare, with the API server's strict decoding message.
 */
export function enforceFieldValidation(
  query: URLSearchParams,
  object: KubeObject,
  type: ResourceType,
  store: ObjectStore,
): void {
  if (query.get('fieldValidation') !== 'Strict') return;
  const unknown = unknownFields(object, type, store);
  if (unknown.length === 0) return;
  const fields = unknown.map((field) => `unknown field "${field}"`).join(', ');
  throw badRequest(
    `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${fields}`,
  );
}
