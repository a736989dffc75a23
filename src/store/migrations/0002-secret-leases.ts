import type { Kysely, Migration } from 'kysely';

export const secretLeaseTable: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('secret_leases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('issued_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
  },
};
