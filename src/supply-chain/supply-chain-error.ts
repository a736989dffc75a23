import { ChangeproofError, type ErrorCategory } from '../errors.ts';

/** Stable codes of the supply-chain libraries (image build, SBOM, scan, sign, attest). */
export type SupplyChainErrorCode =
  | 'PATH_ESCAPE'
  | 'UNSUPPORTED_FILE'
  | 'SOURCE_UNREADABLE'
  | 'MUTABLE_TAG'
  | 'INVALID_TAG'
  | 'OPTION_INVALID'
  | 'BASE_UNSUPPORTED'
  | 'LAYER_INVALID'
  | 'LOCKFILE_INVALID'
  | 'ADVISORY_INVALID'
  | 'SARIF_INVALID'
  | 'EXCEPTION_INVALID'
  | 'POLICY_INVALID'
  | 'DIGEST_INVALID'
  | 'SIGNATURE_INVALID';

const categoryOf: Partial<Record<SupplyChainErrorCode, ErrorCategory>> = {
  SOURCE_UNREADABLE: 'internal',
  MUTABLE_TAG: 'usage',
  INVALID_TAG: 'usage',
  OPTION_INVALID: 'usage',
  POLICY_INVALID: 'usage',
  DIGEST_INVALID: 'usage',
};

/**
 * A failure in the supply-chain libraries: bad input (a lockfile that does not parse, a path
 * escaping the build root, a mutable tag) or a check that failed (a signature that does not
 * verify). Messages are one line and say what to do.
 */
export class SupplyChainError extends ChangeproofError<SupplyChainErrorCode> {
  constructor(
    code: SupplyChainErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { category: categoryOf[code] ?? 'refused', ...options });
  }
}
