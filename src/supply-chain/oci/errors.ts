import { ChangeproofError, type ErrorCategory } from '../../errors.ts';

/**
 * Stable codes of the OCI distribution client. Most mirror the spec's error codes a registry
 * answers with; `DIGEST_MISMATCH` is the client's own check that what it sent or received has
 * the digest it should, `CREDENTIALS_INVALID` and `CREDENTIALS_EXPIRED` are about the stored
 * registry secret, and `REGISTRY_REJECTED` is any other 4xx.
 */
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'DIGEST_MISMATCH'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'TAG_INVALID'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'REFERENCE_INVALID'
  | 'CREDENTIALS_INVALID'
  | 'CREDENTIALS_EXPIRED'
  | 'REGISTRY_REJECTED';

const categoryOf: Partial<Record<RegistryErrorCode, ErrorCategory>> = {
  BLOB_UNKNOWN: 'not-found',
  BLOB_UPLOAD_UNKNOWN: 'not-found',
  MANIFEST_UNKNOWN: 'not-found',
  NAME_UNKNOWN: 'not-found',
  UNAUTHORIZED: 'unauthenticated',
  DENIED: 'forbidden',
  REFERENCE_INVALID: 'usage',
  NAME_INVALID: 'usage',
  TAG_INVALID: 'usage',
  CREDENTIALS_INVALID: 'usage',
  CREDENTIALS_EXPIRED: 'unauthenticated',
};

/** Codes a registry may answer with that keep their name in ours. */
const specCodes = new Set<string>([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'TAG_INVALID',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
]);

/** A registry refused a request, or content failed its digest check. */
export class RegistryError extends ChangeproofError<RegistryErrorCode> {
  constructor(
    code: RegistryErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { category: categoryOf[code] ?? 'refused', ...options });
  }
}

/** Maps a spec error code from a registry's JSON body to ours; unknown codes are generic. */
export function registryErrorCode(specCode: string | undefined): RegistryErrorCode {
  return specCode && specCodes.has(specCode)
    ? (specCode as RegistryErrorCode)
    : 'REGISTRY_REJECTED';
}
