import { RegistryError } from './errors.ts';
import type { RegistryResponse } from './http-request.ts';
import { refusal, type RegistryTransport } from './transport.ts';
import { withRetry } from './retry.ts';

export interface BlobUploadOptions {
  /** A repository on the same registry that already holds the blob: mount instead of upload. */
  from?: string;
  /** Blobs up to this size go in one PUT (default 32 MiB); larger ones in chunks. */
  monolithicLimit?: number;
  /** Chunk size for large blobs (default 8 MiB). */
  chunkSize?: number;
}

const defaultMonolithicLimit = 32 * 1024 * 1024;
const defaultChunkSize = 8 * 1024 * 1024;

/**
 * Uploads one blob whose `digest` the caller computed from `bytes`: a mount when `from` is
 * given and the registry can, otherwise an upload session closed by `PUT ?digest=`. The
 * registry's `Docker-Content-Digest` must equal that digest. A retryable failure restarts the
 * whole session, because a half-sent session cannot be trusted to resume where the client
 * thinks it stopped.
 */
export async function uploadBlob(
  transport: RegistryTransport,
  repository: string,
  bytes: Uint8Array,
  digest: string,
  options: BlobUploadOptions = {},
): Promise<void> {
  await withRetry(transport.retryPolicy, async () => {
    const started = await startSession(transport, repository, digest, options.from);
    if (started.mounted) return checkDigest(started.response, digest);
    const limit = options.monolithicLimit ?? defaultMonolithicLimit;
    const location =
      bytes.length <= limit
        ? started.location
        : await sendChunks(transport, repository, started.location, bytes, options.chunkSize);
    const body = bytes.length <= limit ? bytes : undefined;
    await closeSession(transport, repository, location, digest, body);
  });
}

async function startSession(
  transport: RegistryTransport,
  repository: string,
  digest: string,
  from: string | undefined,
): Promise<{ mounted: true; response: RegistryResponse } | { mounted: false; location: string }> {
  const query = from ? `?mount=${digest}&from=${encodeURIComponent(from)}` : '';
  const response = await transport.send('POST', `/v2/${repository}/blobs/uploads/${query}`, {
    repository,
    body: new Uint8Array(),
  });
  if (response.status === 201 && from) return { mounted: true, response };
  if (response.status !== 202)
    throw await refusal(response, `cannot start upload to ${repository}`);
  response.discard();
  return { mounted: false, location: locationOf(response, transport) };
}

async function sendChunks(
  transport: RegistryTransport,
  repository: string,
  firstLocation: string,
  bytes: Uint8Array,
  chunkSize = defaultChunkSize,
): Promise<string> {
  let location = firstLocation;
  for (let start = 0; start < bytes.length; start += chunkSize) {
    const chunk = bytes.subarray(start, Math.min(bytes.length, start + chunkSize));
    const response = await transport.send('PATCH', location, {
      repository,
      body: chunk,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${start}-${start + chunk.length - 1}`,
      },
    });
    if (response.status !== 202)
      throw await refusal(response, `chunk upload to ${repository} failed`);
    response.discard();
    location = locationOf(response, transport);
  }
  return location;
}

async function closeSession(
  transport: RegistryTransport,
  repository: string,
  location: string,
  digest: string,
  body: Uint8Array | undefined,
): Promise<void> {
  const url = new URL(location, transport.baseUrl);
  url.searchParams.set('digest', digest);
  const response = await transport.send('PUT', url.href, {
    repository,
    body: body ?? new Uint8Array(),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (response.status !== 201) {
    const error = await refusal(response, `registry refused blob ${digest}`);
    throw error.code === 'DIGEST_INVALID'
      ? new RegistryError('DIGEST_MISMATCH', error.message, { cause: error })
      : error;
  }
  checkDigest(response, digest);
}

function checkDigest(response: RegistryResponse, digest: string): void {
  response.discard();
  const stored = response.headers.get('docker-content-digest');
  if (stored && stored !== digest) {
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `registry stored blob as ${stored} but its content hashes to ${digest}`,
    );
  }
}

/** The session URL from a Location header, which may be a path or absolute. */
function locationOf(response: RegistryResponse, transport: RegistryTransport): string {
  const location = response.headers.get('location');
  if (!location) throw new RegistryError('BLOB_UPLOAD_INVALID', 'registry gave no upload location');
  return new URL(location, transport.baseUrl).href;
}
