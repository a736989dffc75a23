import { containerDefinitions } from './container-definitions.ts';
import { podDefinitions } from './pod-definitions.ts';
import { metadataDescription as meta, type Definition } from './schema-notation.ts';
import { volumeDefinitions } from './volume-definitions.ts';

export type { Definition } from './schema-notation.ts';
export { kindDefinitions } from './kind-definitions.ts';

const metaDefinitions: Record<string, Definition> = {
  ObjectMeta: {
    description: meta,
    properties: {
      name: ['string', 'Unique name within the namespace; a DNS-1123 subdomain for most kinds.'],
      generateName: ['string', 'Prefix for a server-generated name when name is empty.'],
      namespace: ['string', 'The namespace the object lives in; empty for cluster-scoped kinds.'],
      uid: ['string', 'Unique identifier set by the server.'],
      resourceVersion: [
        'string',
        'Opaque version of the object, for optimistic concurrency and watches.',
      ],
      generation: ['integer', 'Sequence number of spec changes, set by the server.'],
      creationTimestamp: ['string', 'When the object was created (RFC 3339).'],
      deletionTimestamp: ['string', 'When the object will be deleted; set by the server.'],
      deletionGracePeriodSeconds: ['integer', 'Grace period of a pending deletion.'],
      labels: ['map', 'Key/value pairs for organising and selecting objects.'],
      annotations: ['map', 'Key/value pairs for tools and libraries; not used for selection.'],
      finalizers: ['[]string', 'Conditions that must be cleared before the object is deleted.'],
      ownerReferences: ['[]open', 'Objects this object depends on.'],
      managedFields: ['[]open', 'Which field manager owns which fields (server-side apply).'],
      selfLink: ['string', 'Deprecated; not set.'],
    },
  },
  LabelSelector: {
    description: 'A label query: matchLabels and matchExpressions, all of which must hold.',
    properties: {
      matchLabels: ['map', 'Labels that must be present with these values.'],
      matchExpressions: ['[]#LabelSelectorRequirement', 'Set-based requirements.'],
    },
  },
  LabelSelectorRequirement: {
    description: 'One set-based requirement of a label selector.',
    required: ['key', 'operator'],
    properties: {
      key: ['string', 'The label key.'],
      operator: ['string', 'In, NotIn, Exists or DoesNotExist.'],
      values: ['[]string', 'Values for In and NotIn; empty for Exists and DoesNotExist.'],
    },
  },
};

/** Every definition below the top-level kinds, by name (core v1 unless named otherwise). */
export const definitions: Record<string, Definition> = {
  ...metaDefinitions,
  ...podDefinitions,
  ...containerDefinitions,
  ...volumeDefinitions,
};
