/**
 * The database schema, one for SQLite and PostgreSQL. JSON is stored as text so that what was
 * hashed is what is read back, byte for byte, on both engines.
 */
export interface Database {
  ledger_entries: LedgerEntryRow;
  ledger_checkpoints: LedgerCheckpointRow;
  secret_leases: SecretLeaseRow;
  forge_proposals: ForgeProposalRow;
  forge_reviews: ForgeReviewRow;
  forge_statuses: ForgeStatusRow;
  change_records: ChangeRecordRow;
  change_approvals: ChangeApprovalRow;
  change_pending_records: ChangePendingRecordRow;
  identity_tokens: IdentityTokenRow;
  webhook_deliveries: WebhookDeliveryRow;
}

/**
 * One ledger entry. Indexed by kind, by subject, and by (kind, subject, seq) for the ordered
 * lookups `Ledger.list({ kind, subject })` makes (migration 0006).
 */
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

export interface ForgeProposalRow {
  id: string;
  number: number;
  title: string;
  description: string;
  author: string;
  branch: string;
  base_branch: string;
  base_commit: string;
  head_commit: string;
  last_pusher: string;
  state: string;
  merge_commit: string | null;
  merged_by: string | null;
  merged_at: string | null;
  service: string | null;
  env: string | null;
  /** 1 when the diff changes image references only. */
  routine: number;
  /** JSON array of paths. */
  changed_paths: string;
  /** JSON object of the artifact's evidence. */
  evidence: string;
  created_at: string;
}

export interface ForgeReviewRow {
  id: string;
  proposal: string;
  reviewer: string;
  state: string;
  commit_sha: string;
  body: string | null;
  submitted_at: string;
}

export interface ForgeStatusRow {
  commit_sha: string;
  context: string;
  state: string;
  description: string;
  target_url: string | null;
  updated_at: string;
}

export interface ChangeRecordRow {
  number: string;
  seq: number;
  sys_id: string;
  type: string;
  state: string;
  state_code: number;
  proposal: string;
  service: string;
  env: string;
  short_description: string;
  description: string;
  evidence: string;
  cab_required: number;
  planned_start: string | null;
  planned_end: string | null;
  close_code: string | null;
  close_notes: string | null;
  incident: string | null;
  deployment: string | null;
  /** JSON of the emergency details, or null. */
  emergency: string | null;
  retroactive: number;
  opened_at: string;
  updated_at: string;
}

export interface ChangeApprovalRow {
  id: string;
  change_number: string;
  approver: string;
  role: string;
  state: string;
  comments: string | null;
  at: string;
}

/** A change record owed after a break-glass merge; JSON of the open request. */
export interface ChangePendingRecordRow {
  proposal: string;
  payload: string;
  created_at: string;
}

export interface IdentityTokenRow {
  id: string;
  user_name: string;
  /** Hex SHA-256 of the token's secret part; the token itself is never stored. */
  secret_hash: string;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** A webhook delivery claimed for handling; the primary key (source, delivery) de-duplicates. */
export interface WebhookDeliveryRow {
  /** Who sent it, such as `github`. */
  source: string;
  /** The sender's delivery id (GitHub's X-GitHub-Delivery). */
  delivery: string;
  claimed_at: string;
}
