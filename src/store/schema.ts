/**
 * The database schema, one for SQLite and PostgreSQL. JSON is stored as text so that what was
 * hashed is what is read back, byte for byte, on both engines.
 */
export interface Database {
  ledger_entries: LedgerEntryRow;
  ledger_checkpoints: LedgerCheckpointRow;
  secret_leases: SecretLeaseRow;
}

export interface LedgerEntryRow {
  seq: number;
  time: string;
  kind: string;
  subject: string;
  actor: string;
  /** Canonical JSON of the payload. */
  payload: string;
  prev: string;
  hash: string;
}

export interface LedgerCheckpointRow {
  tree_size: number;
  root_hash: string;
  head_hash: string;
  time: string;
  key_id: string;
  /** JSON of the DSSE envelope. */
  envelope: string;
}

export interface SecretLeaseRow {
  id: string;
  holder: string;
  /** JSON array of scopes such as `sign:pipeline`. */
  scopes: string;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
}
