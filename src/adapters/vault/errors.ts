import { ChangeproofError } from '../../errors.ts';

export type VaultErrorCode =
  'VAULT_LOGIN_FAILED' | 'VAULT_DENIED' | 'VAULT_NOT_FOUND' | 'VAULT_TOKEN_FILE';

/** Vault refused (not an outage: a sealed or unreachable Vault is an UpstreamError). */
export class VaultError extends ChangeproofError<VaultErrorCode> {}
