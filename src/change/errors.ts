import { ChangeproofError, type ErrorCategory } from '../errors.ts';

/**
 * Every refusal of review and change management, by stable code. Tests and clients match the
 * code; the message is one line saying what to do.
 */
export type ChangeErrorCode =
  // separation of duties and review
  | 'SELF_APPROVAL'
  | 'LAST_PUSHER_APPROVAL'
  | 'STALE_APPROVAL'
  | 'NOT_HEAD'
  | 'ROLE_REQUIRED'
  | 'CAB_REQUIRED'
  | 'APPROVALS_REQUIRED'
  | 'CHANGES_REQUESTED'
  | 'RETRO_REVIEWER_NOT_INDEPENDENT'
  // branch protection and merge
  | 'UNSIGNED_COMMIT'
  | 'CHECKS_REQUIRED'
  | 'NOT_FAST_FORWARD'
  | 'MAIN_MOVED'
  | 'PROPOSAL_NOT_OPEN'
  | 'BRANCH_UNKNOWN'
  | 'NO_CHANGES'
  | 'MULTIPLE_ENVIRONMENTS'
  // records
  | 'UNKNOWN_PROPOSAL'
  | 'UNKNOWN_CHANGE'
  | 'UNKNOWN_ENVIRONMENT'
  | 'INVALID_TRANSITION'
  | 'NOT_EMERGENCY'
  | 'ALREADY_REVIEWED'
  | 'CHANGE_SYSTEM_UNAVAILABLE'
  | 'ENVIRONMENT_FILE_INVALID'
  // identity
  | 'UNKNOWN_USER'
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED';

const CATEGORY: Partial<Record<ChangeErrorCode, ErrorCategory>> = {
  ROLE_REQUIRED: 'forbidden',
  UNKNOWN_PROPOSAL: 'not-found',
  UNKNOWN_CHANGE: 'not-found',
  UNKNOWN_ENVIRONMENT: 'usage',
  BRANCH_UNKNOWN: 'usage',
  ENVIRONMENT_FILE_INVALID: 'usage',
  UNKNOWN_USER: 'unauthenticated',
  TOKEN_MISSING: 'unauthenticated',
  TOKEN_INVALID: 'unauthenticated',
  TOKEN_EXPIRED: 'unauthenticated',
  CHANGE_SYSTEM_UNAVAILABLE: 'upstream',
};

/** A refusal by the forge, the gate, the change system or the identity check. */
export class ChangeError extends ChangeproofError<ChangeErrorCode> {
  constructor(
    code: ChangeErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { category: CATEGORY[code] ?? 'refused', ...options });
  }
}
