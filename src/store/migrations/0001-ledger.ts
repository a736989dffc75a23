import type { Kysely, Migration } from 'kysely';

export const ledgerTables: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('ledger_entries')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('prev', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .execute();
    await db.schema
      .createIndex('ledger_entries_kind')
      .on('ledger_entries')
      .column('kind')
      .execute();
    await db.schema
      .createIndex('ledger_entries_subject')
      .on('ledger_entries')
      .column('subject')
      .execute();
    await db.schema
      .createTable('ledger_checkpoints')
      .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
      .addColumn('root_hash', 'text', (c) => c.notNull())
      .addColumn('head_hash', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('envelope', 'text', (c) => c.notNull())
      .execute();
  },
};
