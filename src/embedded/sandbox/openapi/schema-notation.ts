/*
 * How the sandbox writes the schemas of the built-in kinds: every field name a client may send,
 * with a short description. A property type is a scalar name (`string`, `integer`, `boolean`),
 * `map` (string to string), `quantities` (resource name to quantity), `open` (any object),
 * `int-or-string`, `#Name` (another definition), or `[]…` (a list of it). Sub-objects that are
 * rarely written by hand are `open`, so that any valid manifest passes strict validation.
 */
export interface Definition {
  description: string;
  properties: Record<string, [type: string, description: string]>;
  required?: string[];
  /** Set on top-level kinds: `x-kubernetes-group-version-kind`. */
  kind?: { group: string; version: string; kind: string };
}

export const metadataDescription =
  'Standard object metadata: name, namespace, labels, annotations and the fields the server sets.';

/** A top-level kind: apiVersion, kind and metadata, then its own fields. */
export function topLevel(
  kind: string,
  group: string,
  description: string,
  fields: Definition['properties'],
): Definition {
  return {
    description,
    kind: { group, version: 'v1', kind },
    properties: {
      apiVersion: ['string', 'The versioned schema of this object, e.g. apps/v1.'],
      kind: ['string', 'The REST resource this object represents, in CamelCase.'],
      metadata: ['#ObjectMeta', metadataDescription],
      ...fields,
    },
  };
}
