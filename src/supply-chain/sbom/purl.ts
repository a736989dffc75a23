/**
 * Package URLs (purl spec): `pkg:<type>/<namespace>/<name>@<version>`, each part percent-encoded
 * so that `@` in a scope or `:` in a digest cannot be mistaken for a separator.
 */
function encodeSegment(value: string): string {
  return encodeURIComponent(value);
}

/** `pkg:npm/lodash@4.17.21`, `pkg:npm/%40babel/core@7.24.0`. */
export function npmPurl(name: string, version: string): string {
  const { scope, bareName } = splitNpmName(name);
  const path = scope
    ? `${encodeSegment(scope)}/${encodeSegment(bareName)}`
    : encodeSegment(bareName);
  return `pkg:npm/${path}@${encodeSegment(version)}`;
}

/** `@scope/name` → scope `@scope`, bare name `name`. */
export function splitNpmName(name: string): { scope?: string; bareName: string } {
  if (!name.startsWith('@')) return { bareName: name };
  const slash = name.indexOf('/');
  return slash === -1
    ? { bareName: name }
    : { scope: name.slice(0, slash), bareName: name.slice(slash + 1) };
}

/** `pkg:oci/checkout@sha256%3A…?repository_url=registry.test/shop/checkout`. */
export function ociPurl(repository: string, digest: string): string {
  const name = (repository.split('/').pop() ?? repository).toLowerCase();
  const query = `repository_url=${encodeSegment(repository)}`.replace(/%2F/g, '/');
  return `pkg:oci/${encodeSegment(name)}@${encodeSegment(digest)}?${query}`;
}

/** Reads `pkg:npm/...` back into name and version; undefined for other purl types. */
export function parseNpmPurl(purl: string): { name: string; version: string } | undefined {
  const match = /^pkg:npm\/(.+)@([^@?#]+)(?:[?#].*)?$/.exec(purl);
  if (!match) return undefined;
  const [, path = '', version = ''] = match;
  return {
    name: path.split('/').map(decodeURIComponent).join('/'),
    version: decodeURIComponent(version),
  };
}
