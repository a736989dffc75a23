import { isDigest } from '../../supply-chain/oci/reference.ts';
import { blobUnknown, digestInvalid } from './errors.ts';
import type { HandlerContext } from './context.ts';
import { parseRangeHeader, sendEmpty } from './http-util.ts';

/** `HEAD|GET /v2/<name>/blobs/<digest>`, with an optional single `Range`. */
export async function getBlob(context: HandlerContext, name: string, digest: string) {
  const size = linkedBlobSize(context, name, digest);
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
  };
  if (context.request.method === 'HEAD') {
    return sendEmpty(context.response, 200, { ...headers, 'Content-Length': size });
  }

  const range = parseRangeHeader(context.request.headers.range, size);
  if (range) {
    context.response.writeHead(206, {
      ...headers,
      'Content-Length': range.end - range.start + 1,
      'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
    });
  } else {
    context.response.writeHead(200, { ...headers, 'Content-Length': size });
  }
  await new Promise<void>((resolve, reject) => {
    const stream = context.blobs.openReadStream(digest, range);
    stream.on('error', reject);
    context.response.on('close', resolve);
    stream.pipe(context.response);
  });
}

/**
 * `DELETE /v2/<name>/blobs/<digest>` unlinks the blob from the repository; the file goes at
 * the next garbage collection once nothing references it.
 */
export function deleteBlob(context: HandlerContext, name: string, digest: string) {
  linkedBlobSize(context, name, digest);
  context.repositories.update(name, (record) => {
    delete record.blobs[digest];
  });
  sendEmpty(context.response, 202, {});
}

/** The blob's size when the repository holds it; the spec's 404 otherwise. */
export function linkedBlobSize(context: HandlerContext, name: string, digest: string): number {
  if (!isDigest(digest)) throw digestInvalid(`"${digest}" is not a sha256 digest`);
  const stat = context.repositories.hasBlob(name, digest) ? context.blobs.stat(digest) : undefined;
  if (!stat) throw blobUnknown(digest);
  return stat.size;
}
