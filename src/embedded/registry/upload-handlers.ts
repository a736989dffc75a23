import { isDigest, isValidRepositoryName } from '../../supply-chain/oci/reference.ts';
import type { HandlerContext } from './context.ts';
import { digestInvalid, OciHttpError } from './errors.ts';
import { parseContentRange, sendEmpty } from './http-util.ts';
import { paths } from './routes.ts';

/**
 * `POST /v2/<name>/blobs/uploads/`: mounts a blob from another repository (`?mount=&from=`),
 * takes a whole blob in one request (`?digest=`), or opens an upload session (202).
 */
export async function startUpload(context: HandlerContext, name: string) {
  const { url } = context;
  const mount = url.searchParams.get('mount');
  const from = url.searchParams.get('from');
  if (mount && from && tryMount(context, name, mount, from)) return;

  const id = context.blobs.startUpload(name);
  const digest = url.searchParams.get('digest');
  if (digest) return finishUpload(context, name, id);

  sendEmpty(context.response, 202, sessionHeaders(name, id, 0));
}

/** `PATCH` a chunk; a `Content-Range` that does not start where the session ends is a 416. */
export async function appendChunk(context: HandlerContext, name: string, id: string) {
  const size = context.blobs.uploadSize(name, id);
  const range = parseContentRange(context.request.headers['content-range']);
  if (range && range.start !== size) {
    throw new OciHttpError(
      416,
      'BLOB_UPLOAD_INVALID',
      `chunk starts at ${range.start} but the upload holds ${size} bytes`,
      sessionHeaders(name, id, size),
    );
  }

  const newSize = await context.blobs.appendToUpload(
    name,
    id,
    context.request,
    context.limits.blobBytes,
  );
  if (range && newSize !== range.end + 1) {
    context.blobs.cancelUpload(name, id);
    throw new OciHttpError(416, 'BLOB_UPLOAD_INVALID', 'chunk length differs from Content-Range');
  }
  sendEmpty(context.response, 202, sessionHeaders(name, id, newSize));
}

/**
 * `PUT <location>?digest=<d>` closes the session, with an optional last chunk in the body.
 * The blob is stored only when its bytes hash to the digest given.
 */
export async function finishUpload(context: HandlerContext, name: string, id: string) {
  const digest = context.url.searchParams.get('digest') ?? '';
  if (!isDigest(digest)) {
    context.blobs.cancelUpload(name, id);
    throw digestInvalid(`digest "${digest}" must be sha256: followed by 64 lowercase hex`);
  }

  await context.blobs.appendToUpload(name, id, context.request, context.limits.blobBytes);
  context.blobs.finishUpload(name, id, digest);
  context.repositories.linkBlob(name, digest);
  sendEmpty(context.response, 201, {
    Location: paths.blob(name, digest),
    'Docker-Content-Digest': digest,
  });
}

/** `GET <location>`: where the session stands, so a client can resume. */
export function uploadStatus(context: HandlerContext, name: string, id: string) {
  const size = context.blobs.uploadSize(name, id);
  sendEmpty(context.response, 204, sessionHeaders(name, id, size));
}

export function cancelUpload(context: HandlerContext, name: string, id: string) {
  context.blobs.cancelUpload(name, id);
  sendEmpty(context.response, 204, {});
}

function tryMount(context: HandlerContext, name: string, digest: string, from: string): boolean {
  const mountable =
    isDigest(digest) &&
    isValidRepositoryName(from) &&
    context.repositories.hasBlob(from, digest) &&
    context.blobs.stat(digest) !== undefined;
  // The spec lets a registry answer a mount it cannot do with an ordinary upload session.
  if (!mountable) return false;

  context.repositories.linkBlob(name, digest);
  sendEmpty(context.response, 201, {
    Location: paths.blob(name, digest),
    'Docker-Content-Digest': digest,
  });
  return true;
}

function sessionHeaders(name: string, id: string, size: number) {
  return {
    Location: paths.upload(name, id),
    // inclusive end offset; "0-0" for an empty session, as distribution answers
    Range: `0-${Math.max(0, size - 1)}`,
    'Docker-Upload-UUID': id,
  };
}
