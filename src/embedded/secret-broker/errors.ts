import { ChangeproofError } from '../../errors.ts';

export type SecretBrokerErrorCode =
  | 'KEY_MISSING'
  | 'KEY_PERMISSIONS'
  | 'KEY_INVALID'
  | 'LEASE_UNKNOWN'
  | 'LEASE_EXPIRED'
  | 'LEASE_REVOKED'
  | 'SCOPE_DENIED'
  | 'SECRET_MISSING';

export class SecretBrokerError extends ChangeproofError<SecretBrokerErrorCode> {}
