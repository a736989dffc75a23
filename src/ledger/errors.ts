import { ChangeproofError } from '../errors.ts';

export type LedgerErrorCode =
  | 'RECORD_INVALID'
  | 'LEDGER_EMPTY'
  | 'NO_CHECKPOINT'
  | 'NOT_SEALED'
  | 'ENTRY_NOT_FOUND'
  | 'PROOF_INVALID';

export class LedgerError extends ChangeproofError<LedgerErrorCode> {}
