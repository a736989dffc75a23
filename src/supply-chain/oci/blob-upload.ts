import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';
import { apiPath } from './reference.ts';
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
 * Hashes the bytes of one upload attempt as they go out. Offsets make a body sent twice (after
 * a 401 challenge) count once.
 */
class SentDigest {
  private readonly hash = createHash('sha256');
  private length = 0;

  observer(base: number) {
    return (slice: Uint8Array, offset: number) => {
      if (base + offset !== this.length) return;
      this.hash.update(slice);
      this.length += slice.length;
    };
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Uploads one blob under `digest`: a mount when `from` is given and the registry can,
 * otherwise an upload session closed by `PUT ?digest=`. The bytes are hashed as they are sent
 * and must hash to `digest`; the registry checks the same and its `Docker-Content-Digest` must
 * agree. A retryable failure restarts the whole session, because a half-sent session cannot
 * be trusted to resume where the client thinks it stopped.
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
    if (started.mounted) return checkStoredDigest(started.response, digest);

    const sent = new SentDigest();
    const limit = options.monolithicLimit ?? defaultMonolithicLimit;
    const upload = { transport, repository, digest, sent };
    if (bytes.length <= limit) return closeSession(upload, started.location, bytes);
    const location = await sendChunks(upload, started.location, bytes, options.chunkSize);
    await closeSession(upload, location, undefined);
  });
}

interface Upload {
  transport: RegistryTransport;
  repository: string;
  digest: string;
  sent: SentDigest;
}

async function startSession(
  transport: RegistryTransport,
  repository: string,
  digest: string,
  from: string | undefined,
): Promise<{ mounted: true; response: RegistryResponse } | { mounted: false; location: string }> {
  const query = from ? `?mount=${digest}&from=${encodeURIComponent(from)}` : '';
  const response = await transport.send(
    'POST',
    `${apiPath(repository, 'blobs/uploads')}/${query}`,
    {
      repository,
      body: new Uint8Array(),
    },
  );
  if (response.status === 201 && from) return { mounted: true, response };
  if (response.status !== 202) {
    throw await refusal(response, `cannot start upload to ${repository}`);
  }
  response.discard();
  return { mounted: false, location: locationOf(response, transport) };
}

async function sendChunks(
  { transport, repository, sent }: Upload,
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
      onBodySlice: sent.observer(start),
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${start}-${start + chunk.length - 1}`,
      },
    });
    if (response.status !== 202) {
      throw await refusal(response, `chunk upload to ${repository} failed`);
    }
    response.discard();
    location = locationOf(response, transport);
  }
  return location;
}

async function closeSession(
  { transport, repository, digest, sent }: Upload,
  location: string,
  body: Uint8Array | undefined,
): Promise<void> {
  const url = new URL(location, transport.baseUrl);
  url.searchParams.set('digest', digest);
  const response = await transport.send('PUT', url.href, {
    repository,
    body: body ?? new Uint8Array(),
    onBodySlice: sent.observer(0),
    headers: { 'Content-Type': 'application/octet-stream' },
  });

  // our own hash first: when the bytes are wrong, that is the failure, whatever the registry said
  const actual = sent.digest();
  if (actual !== digest) {
    response.discard();
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `blob content hashes to ${actual}, not the expected ${digest}; the registry stored nothing`,
    );
  }
  if (response.status !== 201) throw await refusal(response, `registry refused blob ${digest}`);
  checkStoredDigest(response, digest);
}

function checkStoredDigest(response: RegistryResponse, digest: string): void {
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
function locationOf(response: RegistryResponse, base: { baseUrl: string }): string {
  const location = response.headers.get('location');
  if (!location) throw new RegistryError('BLOB_UPLOAD_INVALID', 'registry gave no upload location');
  return new URL(location, base.baseUrl).href;
}
