import { declaredMergeKey, isSetList } from '../patch/list-keys.ts';
import { isJsonObject, type JsonObject } from '../objects.ts';
import type { ResourceRegistry, ResourceType } from '../resources.ts';
import type { ObjectStore } from '../store.ts';
import { definitions, kindDefinitions, type Definition } from './definitions.ts';

const metaNames = new Set(['ObjectMeta', 'LabelSelector', 'LabelSelectorRequirement']);
const appsNames = new Set([
  'DeploymentSpec',
  'DeploymentStrategy',
  'RollingUpdateDeployment',
  'StatefulSetSpec',
  'StatefulSetUpdateStrategy',
  'RollingUpdateStatefulSetStrategy',
  'DaemonSetSpec',
  'DaemonSetUpdateStrategy',
  'RollingUpdateDaemonSet',
  'ReplicaSetSpec',
]);

/** The component name a definition has, following the Kubernetes naming. */
export function componentName(name: string): string {
  if (metaNames.has(name)) return `io.k8s.apimachinery.pkg.apis.meta.v1.${name}`;
  if (
    appsNames.has(name) ||
    ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(name)
  )
    return `io.k8s.api.apps.v1.${name}`;
  return `io.k8s.api.core.v1.${name}`;
}

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${componentName(name)}` });

// The apimachinery scalars that JSON writes as a string or a number. Without a `type` of their
// own, kubectl explain shows their names (`<IntOrString>`, `map[string]Quantity`).
const scalarComponents: JsonObject = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    description: 'A number or a string, e.g. a port number or a port name, or a percentage.',
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    description: "A resource amount with an optional suffix: '100m' CPU, '256Mi' memory, '2'.",
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
};
const scalarRef = (name: string): JsonObject => ({
  allOf: [{ $ref: `#/components/schemas/io.k8s.apimachinery.pkg.${name}` }],
});

function propertySchema(
  field: string,
  type: string,
  description: string,
  owner: string,
): JsonObject {
  if (type.startsWith('[]')) {
    const items = propertySchema('', type.slice(2), '', owner);
    delete items.description;
    const schema: JsonObject = { type: 'array', description, items };
    const key = declaredMergeKey(field, owner === 'ServiceSpec' ? 'service' : 'container');
    if (key && type.startsWith('[]#')) {
      Object.assign(schema, {
        'x-kubernetes-patch-merge-key': key,
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': [key],
      });
    } else if (isSetList(field)) {
      Object.assign(schema, {
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'set',
      });
    } else {
      schema['x-kubernetes-list-type'] = 'atomic';
    }
    return schema;
  }
  if (type.startsWith('#')) return { description, allOf: [ref(type.slice(1))], default: {} };
  switch (type) {
    case 'integer':
      return { description, type: 'integer', format: 'int32' };
    case 'map':
      return { description, type: 'object', additionalProperties: { type: 'string', default: '' } };
    case 'quantities':
      return {
        description,
        type: 'object',
        additionalProperties: scalarRef('api.resource.Quantity'),
      };
    case 'open':
      return { description, type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'int-or-string':
      return { description, ...scalarRef('util.intstr.IntOrString') };
    default:
      return { description, type };
  }
}

function definitionSchema(name: string, definition: Definition): JsonObject {
  const properties: JsonObject = {};
  for (const [field, [type, description]] of Object.entries(definition.properties)) {
    properties[field] = propertySchema(field, type, description, name);
  }
  return {
    description: definition.description,
    type: 'object',
    properties,
    ...(definition.required ? { required: definition.required } : {}),
    ...(definition.kind ? { 'x-kubernetes-group-version-kind': [definition.kind] } : {}),
  };
}

/** The schemas of every built-in definition, by component name. */
export function builtinSchemas(): JsonObject {
  const schemas: JsonObject = { ...scalarComponents };
  for (const [name, definition] of Object.entries({ ...definitions, ...kindDefinitions })) {
    schemas[componentName(name)] = definitionSchema(name, definition);
  }
  return schemas;
}

/** The component name of a type's top-level schema. */
export function typeSchemaName(type: ResourceType): string {
  const builtin = kindDefinitions[type.kind]?.kind;
  if (!type.custom && builtin && builtin.group === type.group) return componentName(type.kind);
  const prefix = type.group ? type.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${prefix}.${type.version}.${type.kind}`;
}

/**
 * The top-level schema of a type without a built-in definition: a CRD's openAPIV3Schema when it
 * has one, else an open object (any fields accepted).
 */
export function genericTypeSchema(type: ResourceType, store: ObjectStore): JsonObject {
  const gvk = [{ group: type.group, version: type.version, kind: type.kind }];
  const crdSchema = type.custom ? crdVersionSchema(type, store) : undefined;
  const base: JsonObject = crdSchema ?? {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  };
  const properties = isJsonObject(base.properties) ? base.properties : {};
  return {
    description: `${type.kind} (${type.group || 'core'}/${type.version})`,
    ...base,
    properties: {
      ...properties,
      apiVersion: { type: 'string', description: 'The versioned schema of this object.' },
      kind: { type: 'string', description: 'The REST resource this object represents.' },
      metadata: {
        description: 'Standard object metadata.',
        allOf: [ref('ObjectMeta')],
        default: {},
      },
    },
    'x-kubernetes-group-version-kind': gvk,
  };
}

function crdVersionSchema(type: ResourceType, store: ObjectStore): JsonObject | undefined {
  const crd = store.get(
    'apiextensions.k8s.io/customresourcedefinitions',
    undefined,
    `${type.resource}.${type.group}`,
  )?.object;
  const versions =
    isJsonObject(crd?.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  const version = versions.find((entry) => isJsonObject(entry) && entry.name === type.version);
  if (!isJsonObject(version) || !isJsonObject(version.schema)) return undefined;
  return isJsonObject(version.schema.openAPIV3Schema) ? version.schema.openAPIV3Schema : undefined;
}

const patchParameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
  name,
  in: 'query',
  description: `The ${name} option of the request.`,
  schema: { type: 'string', uniqueItems: true },
}));

function pathsOf(type: ResourceType, schemaName: string): JsonObject {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const collection = type.namespaced
    ? `${base}/namespaces/{namespace}/${type.resource}`
    : `${base}/${type.resource}`;
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const response = {
    '200': {
      description: 'OK',
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } },
    },
  };
  const operation = (action: string, parameters: JsonObject[] = []): JsonObject => ({
    operationId: `${action}${type.kind}`,
    parameters,
    responses: response,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  return {
    [collection]: { get: operation('list'), post: operation('post', patchParameters) },
    [`${collection}/{name}`]: {
      get: operation('get'),
      put: operation('put', patchParameters),
      patch: operation('patch', patchParameters),
      delete: operation('delete'),
    },
  };
}

/** The OpenAPI v3 document of one group version (`/openapi/v3/apis/apps/v1`). */
export function groupVersionDocument(
  registry: ResourceRegistry,
  store: ObjectStore,
  group: string,
  version: string,
): JsonObject {
  const schemas = builtinSchemas();
  let paths: JsonObject = {};
  for (const type of registry.typesIn(group, version)) {
    const name = typeSchemaName(type);
    if (!schemas[name]) schemas[name] = genericTypeSchema(type, store);
    paths = { ...paths, ...pathsOf(type, name) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths,
    components: { schemas },
  };
}
