import { isDigest } from '../../supply-chain/oci/reference.ts';
import { MediaType, type Descriptor } from '../../supply-chain/oci/types.ts';
import type { HandlerContext } from './context.ts';
import { digestInvalid, OciHttpError } from './errors.ts';
import { sendJson } from './http-util.ts';
import type { ManifestRecord } from './repository-store.ts';
import { paths } from './routes.ts';

/**
 * `GET /v2/<name>/tags/list?n=&last=`: tags in lexical order, `n` at a time after `last`,
 * with a `Link: <…>; rel="next"` header while more remain.
 */
export function listTags(context: HandlerContext, name: string) {
  if (!context.repositories.exists(name)) {
    throw new OciHttpError(404, 'NAME_UNKNOWN', `repository ${name} is not known`);
  }
  const last = context.url.searchParams.get('last');
  const pageSize = parsePageSize(context.url.searchParams.get('n'));

  const all = Object.keys(context.repositories.read(name).tags).sort();
  const after = last === null ? all : all.filter((tag) => tag > last);
  const page = pageSize === undefined ? after : after.slice(0, pageSize);

  const headers: Record<string, string> = {};
  if (pageSize !== undefined && page.length > 0 && after.length > page.length) {
    const next = `${paths.tags(name)}?n=${pageSize}&last=${encodeURIComponent(page.at(-1)!)}`;
    headers.Link = `<${next}>; rel="next"`;
  }
  sendJson(context.response, 200, { name, tags: page }, headers);
}

/**
 * `GET /v2/<name>/referrers/<digest>?artifactType=`: an image index of the manifests whose
 * `subject` is the digest. Always 200, empty when nothing refers to it.
 */
export function listReferrers(context: HandlerContext, name: string, digest: string) {
  if (!isDigest(digest)) throw digestInvalid(`"${digest}" is not a sha256 digest`);
  const artifactType = context.url.searchParams.get('artifactType');

  const manifests = Object.values(context.repositories.read(name).manifests)
    .filter((record) => record.subject === digest)
    .filter((record) => !artifactType || record.artifactType === artifactType)
    .sort((a, b) => a.pushedAt.localeCompare(b.pushedAt))
    .map(referrerDescriptor);

  const headers: Record<string, string> = artifactType
    ? { 'OCI-Filters-Applied': 'artifactType' }
    : {};
  const index = { schemaVersion: 2, mediaType: MediaType.imageIndex, manifests };
  sendJson(context.response, 200, index, headers, MediaType.imageIndex);
}

function referrerDescriptor(record: ManifestRecord): Descriptor {
  return {
    mediaType: record.mediaType,
    digest: record.digest,
    size: record.size,
    ...(record.artifactType ? { artifactType: record.artifactType } : {}),
    ...(record.annotations ? { annotations: record.annotations } : {}),
  };
}

function parsePageSize(value: string | null): number | undefined {
  if (value === null) return undefined;
  const size = Number(value);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new OciHttpError(400, 'UNSUPPORTED', `page size n=${value} must be a whole number`);
  }
  return size;
}
