import type { Kysely, Migration } from 'kysely';

/**
 * Webhook deliveries claimed for handling, one row per sender and delivery id. The primary key is
 * what de-duplicates: of two API replicas receiving the same delivery, only one insert succeeds.
 */
export const webhookDeliveryTable: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('delivery', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['source', 'delivery'])
      .execute();
  },
};
