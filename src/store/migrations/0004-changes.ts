import type { Kysely, Migration } from 'kysely';

/**
 * Native change records (ServiceNow's model), their approvals, break-glass merges waiting for a
 * retroactive record, and the local identities' tokens (hashes only).
 */
export const changeTables: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('change_records')
      .addColumn('number', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull().unique())
      .addColumn('sys_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('state_code', 'integer', (c) => c.notNull())
      .addColumn('proposal', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('short_description', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('cab_required', 'integer', (c) => c.notNull())
      .addColumn('planned_start', 'text')
      .addColumn('planned_end', 'text')
      .addColumn('close_code', 'text')
      .addColumn('close_notes', 'text')
      .addColumn('incident', 'text')
      .addColumn('deployment', 'text')
      .addColumn('emergency', 'text')
      .addColumn('retroactive', 'integer', (c) => c.notNull())
      .addColumn('opened_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('change_records_by_proposal')
      .on('change_records')
      .column('proposal')
      .execute();
    await db.schema
      .createTable('change_approvals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('change_number', 'text', (c) => c.notNull())
      .addColumn('approver', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('comments', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('change_pending_records')
      .addColumn('proposal', 'text', (c) => c.primaryKey())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('identity_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('issued_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
  },
};
