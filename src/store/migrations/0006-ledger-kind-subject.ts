import type { Kysely, Migration } from 'kysely';

/**
 * A composite index for the ledger's commonest read, entries of one kind about one subject in
 * sequence order (`Ledger.list({ kind, subject })`): with it the lookup is one index range in
 * `seq` order, where the single-column indexes of 0001 scan every entry of the kind or subject
 * and sort them.
 */
export const ledgerKindSubjectIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('ledger_entries_kind_subject_seq')
      .on('ledger_entries')
      .columns(['kind', 'subject', 'seq'])
      .execute();
  },
};
