import type { Kysely, Migration } from 'kysely';

/** The embedded forge: proposals against the config repo, their reviews, and commit statuses. */
export const forgeTables: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('forge_proposals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('number', 'integer', (c) => c.notNull().unique())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('branch', 'text', (c) => c.notNull())
      .addColumn('base_branch', 'text', (c) => c.notNull())
      .addColumn('base_commit', 'text', (c) => c.notNull())
      .addColumn('head_commit', 'text', (c) => c.notNull())
      .addColumn('last_pusher', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('merge_commit', 'text')
      .addColumn('merged_by', 'text')
      .addColumn('merged_at', 'text')
      .addColumn('service', 'text')
      .addColumn('env', 'text')
      .addColumn('routine', 'integer', (c) => c.notNull())
      .addColumn('changed_paths', 'text', (c) => c.notNull())
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('forge_reviews')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('proposal', 'text', (c) => c.notNull())
      .addColumn('reviewer', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('commit_sha', 'text', (c) => c.notNull())
      .addColumn('body', 'text')
      .addColumn('submitted_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('forge_reviews_by_proposal')
      .on('forge_reviews')
      .column('proposal')
      .execute();
    await db.schema
      .createTable('forge_statuses')
      .addColumn('commit_sha', 'text', (c) => c.notNull())
      .addColumn('context', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('target_url', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('forge_statuses_pk', ['commit_sha', 'context'])
      .execute();
  },
};
