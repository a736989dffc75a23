import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobStore } from './blob-store.ts';
import type { RepositoryStore } from './repository-store.ts';

/** Size limits the registry enforces on request bodies. */
export interface RegistryLimits {
  /** Largest manifest accepted (default 4 MiB, as distribution and most registries). */
  manifestBytes: number;
  /** Largest blob accepted (default 4 GiB). */
  blobBytes: number;
}

export const defaultLimits: RegistryLimits = {
  manifestBytes: 4 * 1024 * 1024,
  blobBytes: 4 * 1024 * 1024 * 1024,
};

/** What every handler works with: the stores, the limits and the request at hand. */
export interface HandlerContext {
  blobs: BlobStore;
  repositories: RepositoryStore;
  limits: RegistryLimits;
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
}
