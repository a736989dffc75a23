import type { Migration, MigrationProvider } from 'kysely';
import { ledgerTables } from './0001-ledger.ts';
import { secretLeaseTable } from './0002-secret-leases.ts';
import { forgeTables } from './0003-forge.ts';
import { changeTables } from './0004-changes.ts';
import { webhookDeliveryTable } from './0005-webhook-deliveries.ts';
import { ledgerKindSubjectIndex } from './0006-ledger-kind-subject.ts';

/**
 * Every migration, in order. A released migration never changes: a new need is a new file here,
 * and it must run on SQLite and PostgreSQL alike.
 */
const migrations: Record<string, Migration> = {
  '0001-ledger': ledgerTables,
  '0002-secret-leases': secretLeaseTable,
  '0003-forge': forgeTables,
  '0004-changes': changeTables,
  '0005-webhook-deliveries': webhookDeliveryTable,
  '0006-ledger-kind-subject': ledgerKindSubjectIndex,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
