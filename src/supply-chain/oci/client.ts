import { sha256Digest } from '../digest.ts';
import { uploadBlob, type BlobUploadOptions } from './blob-upload.ts';
import { RegistryError } from './errors.ts';
import { apiPath, isDigest } from './reference.ts';
import { listReferrers, recordReferrer, type ReferrersOptions } from './referrers.ts';
import { nextLink, refusal, RegistryTransport, type TransportOptions } from './transport.ts';
import {
  MediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type OciArtifact,
} from './types.ts';

export type RegistryClientOptions = TransportOptions;

/** A manifest as pulled: its exact bytes, their digest, and the parsed document. */
export interface PulledManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  manifest: ImageManifest | ImageIndex;
}

const manifestAccept = [
  MediaType.imageManifest,
  MediaType.imageIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

/** How many blobs of one artifact upload at once. */
const blobConcurrency = 4;

/**
 * A client of the OCI distribution API for one registry: the embedded registry in local mode,
 * any OCI registry (ECR, Harbor, distribution) in connected mode. Every digest is checked: what
 * is pushed must be stored under the digest computed here, and what is pulled by digest must
 * hash to it.
 *
 * @example
 * const client = new RegistryClient({ registry: '127.0.0.1:5000', insecure: true });
 * const { digest } = await client.pushArtifact('shop/cart', image, commitSha);
 */
export class RegistryClient {
  private readonly transport: RegistryTransport;

  constructor(readonly options: RegistryClientOptions) {
    this.transport = new RegistryTransport(options);
  }

  /** Checks the registry answers the distribution API (and the credentials, if it asks). */
  async ping(): Promise<void> {
    const response = await this.transport.request('GET', '/v2/');
    if (!response.ok)
      throw await refusal(response, `registry ${this.options.registry} refused /v2/`);
    response.discard();
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const response = await this.transport.request('HEAD', apiPath(repository, 'blobs', digest), {
      repository,
    });
    if (response.status === 404) return false;
    if (!response.ok) throw await refusal(response, `cannot check blob ${digest}`);
    return true;
  }

  /**
   * Uploads a blob unless the repository already has it (see {@link uploadBlob}). With
   * `expectedDigest` (the descriptor's), bytes that hash otherwise are refused and the registry
   * stores nothing; the upload then starts at once and the bytes are hashed as they are sent.
   */
  async pushBlob(
    repository: string,
    bytes: Uint8Array,
    options: BlobUploadOptions & { expectedDigest?: string } = {},
  ): Promise<{ digest: string; size: number }> {
    const digest = options.expectedDigest ?? sha256Digest(bytes);
    if (await this.blobExists(repository, digest)) {
      // nothing is sent, so check the bytes here
      if (options.expectedDigest) assertDigest(bytes, digest, 'blob content');
    } else {
      await uploadBlob(this.transport, repository, bytes, digest, options);
    }
    return { digest, size: bytes.length };
  }

  /** Downloads a blob and checks it hashes to `digest`. */
  async pullBlob(repository: string, digest: string): Promise<Uint8Array> {
    const response = await this.transport.request('GET', apiPath(repository, 'blobs', digest), {
      repository,
    });
    if (!response.ok) throw await refusal(response, `cannot pull blob ${digest}`, 'BLOB_UNKNOWN');
    const bytes = await response.bytes();
    assertDigest(bytes, digest, `blob ${digest} from ${repository}`);
    return bytes;
  }

  /**
   * Pushes manifest bytes under a tag or their digest, with `mediaType` as Content-Type.
   * Returns the digest and whether the registry indexed the manifest's subject itself.
   */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string) {
    const digest = sha256Digest(bytes);
    if (isDigest(reference)) assertDigest(bytes, reference, 'manifest');
    const response = await this.transport.request(
      'PUT',
      apiPath(repository, 'manifests', reference),
      {
        repository,
        body: bytes,
        headers: { 'Content-Type': mediaType },
      },
    );
    if (response.status !== 201 && response.status !== 200) {
      throw await refusal(response, `registry refused manifest ${reference} of ${repository}`);
    }
    response.discard();
    const stored = response.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw new RegistryError(
        'DIGEST_MISMATCH',
        `registry stored manifest as ${stored}, not ${digest}`,
      );
    }
    return { digest, subjectIndexed: response.headers.has('oci-subject') };
  }

  /** Pulls a manifest by tag or digest; by digest, the bytes must hash to it. */
  async getManifest(repository: string, reference: string): Promise<PulledManifest> {
    const response = await this.transport.request(
      'GET',
      apiPath(repository, 'manifests', reference),
      {
        repository,
        headers: { Accept: manifestAccept },
      },
    );
    if (!response.ok) {
      throw await refusal(response, `cannot pull manifest ${reference}`, 'MANIFEST_UNKNOWN');
    }
    const bytes = await response.bytes();
    const digest = sha256Digest(bytes);
    const claimed = isDigest(reference) ? reference : response.headers.get('docker-content-digest');
    if (claimed) assertDigest(bytes, claimed, `manifest ${reference} of ${repository}`);

    const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageManifest | ImageIndex;
    const mediaType = manifest.mediaType ?? response.headers.get('content-type') ?? '';
    return { bytes, digest, mediaType, manifest };
  }

  /** Every tag of the repository, following `Link` pages; empty when the repository is unknown. */
  async listTags(repository: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined =
      `${apiPath(repository, 'tags/list')}${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    while (next) {
      const response = await this.transport.request('GET', next, { repository });
      if (response.status === 404) return tags;
      if (!response.ok) throw await refusal(response, `cannot list tags of ${repository}`);
      tags.push(...(((await response.json()) as { tags?: string[] | null }).tags ?? []));
      next = nextLink(response.headers.get('link'));
    }
    return tags;
  }

  /**
   * The repositories `GET /v2/_catalog` names, following `Link` pages; `undefined` when the
   * registry offers no catalog (404) or will not show it to these credentials (401, 403), as
   * many hosted registries do.
   */
  async listRepositories(): Promise<string[] | undefined> {
    const names: string[] = [];
    let next: string | undefined = '/v2/_catalog';
    while (next) {
      let response;
      try {
        response = await this.transport.request('GET', next);
      } catch (error) {
        if (error instanceof RegistryError && error.code === 'UNAUTHORIZED') return undefined;
        throw error;
      }
      if ([403, 404, 405].includes(response.status)) {
        response.discard();
        return undefined;
      }
      if (!response.ok) throw await refusal(response, 'cannot list the repositories');
      names.push(
        ...(((await response.json()) as { repositories?: string[] | null }).repositories ?? []),
      );
      next = nextLink(response.headers.get('link'));
    }
    return names;
  }

  /**
   * Deletes a manifest by digest (`DELETE /v2/<name>/manifests/<digest>`), which also removes
   * the tags naming it. Returns false when the registry no longer has it. A registry with
   * deletion disabled answers 405 `UNSUPPORTED`, thrown as such.
   */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    if (!isDigest(digest)) {
      throw new RegistryError('DIGEST_INVALID', `manifests are deleted by digest, not ${digest}`);
    }
    const response = await this.transport.request(
      'DELETE',
      apiPath(repository, 'manifests', digest),
      { repository },
    );
    if (response.status === 404) {
      response.discard();
      return false;
    }
    if (response.status === 405) {
      response.discard();
      throw new RegistryError(
        'UNSUPPORTED',
        `registry ${this.options.registry} has deletion disabled; enable it (distribution: storage.delete.enabled) or prune with its own lifecycle rules`,
        { details: { status: 405 } },
      );
    }
    if (!response.ok) throw await refusal(response, `cannot delete manifest ${digest}`);
    response.discard();
    return true;
  }

  /** Manifests whose subject is `digest`: the referrers API, or the `sha256-<hex>` tag index. */
  referrers(
    repository: string,
    digest: string,
    options: ReferrersOptions = {},
  ): Promise<Descriptor[]> {
    return listReferrers(this, this.transport, repository, digest, options);
  }

  /**
   * Pushes an image or artifact: its blobs first (skipping those present), then the manifest
   * under `tag` (or its digest). A manifest with a subject is also recorded in the subject's
   * fallback tag index when the registry does not index referrers.
   */
  async pushArtifact(repository: string, artifact: OciArtifact, tag?: string): Promise<Descriptor> {
    assertDigest(artifact.manifestBytes, artifact.manifestDigest, 'artifact manifest');
    for (let next = 0; next < artifact.blobs.length; next += blobConcurrency) {
      const batch = artifact.blobs.slice(next, next + blobConcurrency);
      await Promise.all(
        batch.map((blob) =>
          this.pushBlob(repository, blob.bytes, { expectedDigest: blob.descriptor.digest }),
        ),
      );
    }

    const mediaType = artifact.manifest.mediaType;
    const reference = tag ?? artifact.manifestDigest;
    const pushed = await this.putManifest(repository, reference, artifact.manifestBytes, mediaType);
    const descriptor = descriptorOf(artifact, mediaType);
    const subject = artifact.manifest.subject;
    if (subject && !pushed.subjectIndexed) {
      await recordReferrer(this, repository, subject.digest, descriptor);
    }
    return descriptor;
  }
}

function descriptorOf(artifact: OciArtifact, mediaType: string): Descriptor {
  const manifest = artifact.manifest;
  const artifactType =
    manifest.artifactType ?? ('config' in manifest ? manifest.config.mediaType : undefined);
  return {
    mediaType,
    digest: artifact.manifestDigest,
    size: artifact.manifestBytes.length,
    ...(artifactType ? { artifactType } : {}),
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}

function assertDigest(bytes: Uint8Array, expected: string, what: string): void {
  const actual = sha256Digest(bytes);
  if (actual !== expected) {
    throw new RegistryError('DIGEST_MISMATCH', `${what} hashes to ${actual}, not ${expected}`);
  }
}
