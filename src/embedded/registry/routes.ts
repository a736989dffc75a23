/** The distribution API endpoints the embedded registry serves, parsed from a URL path. */
export type Route =
  | { kind: 'base' }
  | { kind: 'token' }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload-start'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

// The repository name may hold slashes, so the endpoint is matched from the end of the path.
const endpointPattern = /^\/v2\/(.+)\/(blobs\/uploads|blobs|manifests|referrers)\/([^/]*)$/;
const tagsPattern = /^\/v2\/(.+)\/tags\/list$/;

/** The path of the token endpoint the registry names in its Bearer challenge. */
export const tokenPath = '/token';

export function parseRoute(pathname: string): Route | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  if (pathname === tokenPath) return { kind: 'token' };

  const tags = tagsPattern.exec(pathname);
  if (tags) return { kind: 'tags', name: decodeURIComponent(tags[1]!) };

  const match = endpointPattern.exec(pathname);
  if (!match) return undefined;
  const name = decodeURIComponent(match[1]!);
  const last = decodeURIComponent(match[3]!);
  switch (match[2]) {
    case 'blobs/uploads':
      return last === '' ? { kind: 'upload-start', name } : { kind: 'upload', name, id: last };
    case 'blobs':
      return { kind: 'blob', name, digest: last };
    case 'manifests':
      return { kind: 'manifest', name, reference: last };
    default:
      return { kind: 'referrers', name, digest: last };
  }
}

/** Paths the registry hands out in Location headers. */
export const paths = {
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  upload: (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`,
  manifest: (name: string, digest: string) => `/v2/${name}/manifests/${digest}`,
  tags: (name: string) => `/v2/${name}/tags/list`,
};
