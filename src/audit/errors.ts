import { ChangeproofError } from '../errors.ts';

export type AuditErrorCode =
  | 'RANGE_INVALID'
  | 'RANGE_INVERTED'
  | 'EMPTY_POPULATION'
  | 'UNKNOWN_ENVIRONMENT'
  | 'LEDGER_BROKEN'
  | 'CONTROL_INVALID'
  | 'SAMPLE_INVALID';

/** A refusal of the audit: a bad range, nothing to audit, or a ledger that cannot be trusted. */
export class AuditError extends ChangeproofError<AuditErrorCode> {}
