import { pathNotFound } from './status.ts';
import type { ResourceRegistry, ResourceType } from './resources.ts';

/** What a resource request addresses, read from its path. */
export interface RequestTarget {
  type: ResourceType;
  /** The version in the path (a CRD may serve several versions of one stored type). */
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** `/api/v1/watch/...` — the legacy watch prefix. */
  watchPath: boolean;
}

/**
 * Parses `/api/v1/[watch/][namespaces/<ns>/]<resource>[/<name>[/<subresource>]]` and the
 * `/apis/<group>/<version>/...` equivalent; unknown group versions and resources are 404.
 */
export function parseTarget(path: string, registry: ResourceRegistry): RequestTarget {
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    rest = segments.slice(1);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1]!;
    rest = segments.slice(2);
  } else {
    throw pathNotFound();
  }
  const version = rest[0]!;
  let parts = rest.slice(1);
  const watchPath = parts[0] === 'watch';
  if (watchPath) parts = parts.slice(1);

  let namespace: string | undefined;
  // `namespaces/<ns>/<resource>...` unless it is the namespace itself or its subresource.
  if (parts[0] === 'namespaces' && parts.length >= 3 && !isNamespaceSubresource(parts)) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, subresource, ...extra] = parts;
  const type = resource ? registry.find(group, version, resource) : undefined;
  if (!type || extra.length > 0) throw pathNotFound();
  if (namespace !== undefined && !type.namespaced) throw pathNotFound();
  return { type, version, namespace, name, subresource, watchPath };
}

function isNamespaceSubresource(parts: string[]): boolean {
  return parts.length === 3 && (parts[2] === 'status' || parts[2] === 'finalize');
}
