import { sha256Digest } from '../../supply-chain/digest.ts';
import { isDigest, isValidTag } from '../../supply-chain/oci/reference.ts';
import type { HandlerContext } from './context.ts';
import { digestInvalid, manifestUnknown, OciHttpError } from './errors.ts';
import { readBody, sendEmpty } from './http-util.ts';
import { parseManifest, type ParsedManifest } from './manifest-validation.ts';
import type { ManifestRecord } from './repository-store.ts';
import { paths } from './routes.ts';

/**
 * `PUT /v2/<name>/manifests/<tag|digest>`: keeps the exact bytes and Content-Type once the
 * manifest parses and every blob and child manifest it names is in the repository.
 */
export async function putManifest(context: HandlerContext, name: string, reference: string) {
  assertReference(reference);
  const bytes = await readBody(context.request, context.limits.manifestBytes);
  const parsed = parseManifest(bytes, context.request.headers['content-type']);

  const digest = sha256Digest(bytes);
  if (isDigest(reference) && reference !== digest) {
    throw digestInvalid(`manifest bytes have digest ${digest}, not ${reference}`);
  }
  assertReferencedContentPresent(context, name, parsed);

  context.blobs.writeBytes(bytes);
  context.repositories.putManifest(
    name,
    recordOf(digest, bytes.length, parsed),
    isDigest(reference) ? undefined : reference,
  );
  sendEmpty(context.response, 201, {
    Location: paths.manifest(name, digest),
    'Docker-Content-Digest': digest,
    // tells the client this registry indexes referrers, so no fallback tag is needed
    ...(parsed.subject ? { 'OCI-Subject': parsed.subject } : {}),
  });
}

/** `HEAD|GET /v2/<name>/manifests/<tag|digest>` with the Content-Type it was pushed with. */
export function getManifest(context: HandlerContext, name: string, reference: string) {
  assertReference(reference);
  const record = context.repositories.resolve(name, reference);
  if (!record) throw manifestUnknown(reference);

  const headers = {
    'Content-Type': record.mediaType,
    'Docker-Content-Digest': record.digest,
    'Content-Length': record.size,
  };
  if (context.request.method === 'HEAD') return sendEmpty(context.response, 200, headers);
  context.response.writeHead(200, headers);
  context.response.end(context.blobs.readBytes(record.digest));
}

/** `DELETE` by digest removes the manifest and its tags; by tag removes only the tag. */
export function deleteManifest(context: HandlerContext, name: string, reference: string) {
  assertReference(reference);
  const deleted = isDigest(reference)
    ? context.repositories.deleteManifest(name, reference)
    : context.repositories.deleteTag(name, reference);
  if (!deleted) throw manifestUnknown(reference);
  sendEmpty(context.response, 202, {});
}

function assertReference(reference: string): void {
  if (reference.includes(':')) {
    if (!isDigest(reference)) throw digestInvalid(`"${reference}" is not a sha256 digest`);
  } else if (!isValidTag(reference)) {
    throw new OciHttpError(400, 'TAG_INVALID', `tag "${reference}" is not a valid tag`);
  }
}

function assertReferencedContentPresent(
  context: HandlerContext,
  name: string,
  parsed: ParsedManifest,
): void {
  const repository = context.repositories.read(name);
  for (const blob of parsed.blobs) {
    const stat = blob.digest in repository.blobs ? context.blobs.stat(blob.digest) : undefined;
    if (!stat) throw blobMissing(`blob ${blob.digest} named by the manifest is not pushed`);
    if (stat.size !== blob.size) {
      throw new OciHttpError(
        400,
        'MANIFEST_INVALID',
        `blob ${blob.digest} is ${stat.size} bytes, the manifest says ${blob.size}`,
      );
    }
  }
  for (const child of parsed.manifests) {
    if (!(child in repository.manifests)) {
      throw blobMissing(`manifest ${child} named by the index is not pushed`);
    }
  }
}

function blobMissing(message: string): OciHttpError {
  return new OciHttpError(400, 'MANIFEST_BLOB_UNKNOWN', message);
}

function recordOf(digest: string, size: number, parsed: ParsedManifest): ManifestRecord {
  return {
    digest,
    mediaType: parsed.mediaType,
    size,
    pushedAt: new Date().toISOString(),
    ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
    ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
    ...(parsed.subject ? { subject: parsed.subject } : {}),
    references: [...parsed.blobs.map((blob) => blob.digest), ...parsed.manifests],
  };
}
