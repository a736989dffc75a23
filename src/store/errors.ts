import { ChangeproofError } from '../errors.ts';

export type StoreErrorCode =
  'DATABASE_CORRUPT' | 'DATABASE_UNREACHABLE' | 'DATABASE_URL_INVALID' | 'MIGRATION_FAILED';

export class StoreError extends ChangeproofError<StoreErrorCode> {}
