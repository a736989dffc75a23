import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import type { KyselyPlugin, QueryId, RootOperationNode } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { openStore } from '../../src/store/open.ts';
import type { Database } from '../../src/store/schema.ts';
import { engines, freshDatabase, type Engine } from '../support/stores.ts';

const INDEX = 'ledger_entries_kind_subject_seq';
const BEFORE_INDEX = '0005-webhook-deliveries';

/** A Kysely on the bare database, without openStore's migrate-to-latest. */
function bareDatabase(engine: Engine, url: string): Kysely<Database> {
  const dialect =
    engine === 'postgres'
      ? new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) })
      : new SqliteDialect({ database: new BetterSqlite3(url.replace(/^sqlite:/, '')) });
  return new Kysely<Database>({ dialect });
}

/** The index's columns in order, read from the engine's own catalogue. */
async function indexColumns(db: Kysely<Database>, engine: Engine): Promise<string[]> {
  if (engine === 'sqlite') {
    const result = await db.executeQuery<{ name: string }>(
      CompiledQuery.raw(`select name from pragma_index_info('${INDEX}') order by seqno`),
    );
    return result.rows.map((row) => row.name);
  }
  const result = await db.executeQuery<{ column: string }>(
    CompiledQuery.raw(
      `select a.attname as "column"
         from pg_index i
         join pg_class c on c.oid = i.indexrelid
         join lateral unnest(i.indkey) with ordinality as k(attnum, position) on true
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where c.relname = $1
        order by k.position`,
      [INDEX],
    ),
  );
  return result.rows.map((row) => row.column);
}

describe.each(engines)('migration 0006-ledger-kind-subject on %s', (engine) => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  it('adds the (kind, subject, seq) index to a database migrated before it, keeping its entries', async () => {
    const database = await freshDatabase(engine);
    dispose = database.dispose;
    const older = bareDatabase(engine, database.url);
    try {
      const migrator = new Migrator({ db: older, provider: migrationProvider });
      expect((await migrator.migrateTo(BEFORE_INDEX)).error).toBeUndefined();
      expect(await indexColumns(older, engine)).toEqual([]);
      await older
        .insertInto('ledger_entries')
        .values({
          seq: 1,
          time: '2025-01-01T00:00:00.000Z',
          kind: 'incident.opened',
          subject: 'incident:INC1',
          actor: 'tester',
          payload: '{"incident":"INC1"}',
          prev: '0'.repeat(64),
          hash: 'a'.repeat(64),
        })
        .execute();
    } finally {
      await older.destroy();
    }

    const store = await openStore(database.url);
    try {
      expect(await indexColumns(store.db, engine)).toEqual(['kind', 'subject', 'seq']);
      const entries = await new Ledger(store).list({
        kind: 'incident.opened',
        subject: 'incident:INC1',
      });
      expect(entries.map((e) => e.payload)).toEqual([{ incident: 'INC1' }]);
    } finally {
      await store.close();
    }
  });

  it('creates the index on a new database and opens it again without re-running it', async () => {
    const database = await freshDatabase(engine);
    dispose = database.dispose;
    await (await openStore(database.url)).close();
    const store = await openStore(database.url);
    try {
      expect(await indexColumns(store.db, engine)).toEqual(['kind', 'subject', 'seq']);
      const migrator = new Migrator({ db: store.db, provider: migrationProvider });
      const migrations = await migrator.getMigrations();
      expect(migrations.filter((m) => !m.executedAt).map((m) => m.name)).toEqual([]);
      expect(migrations.map((m) => m.name)).toContain('0006-ledger-kind-subject');
    } finally {
      await store.close();
    }
  });
});

describe('the ledger kind+subject lookup on SQLite', () => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  it('reads through the (kind, subject, seq) index, with no sort step', async () => {
    const database = await freshDatabase('sqlite');
    dispose = database.dispose;
    const store = await openStore(database.url);
    try {
      const seeding = new Ledger(store);
      for (let i = 0; i < 40; i += 1) {
        await seeding.append({
          kind: i % 2 === 0 ? 'incident.opened' : 'drift.detected',
          subject: `incident:INC${i % 5}`,
          actor: 'tester',
          payload: { i },
        });
      }
      const captured = captureQueries();
      const listed = await new Ledger({ ...store, db: store.db.withPlugin(captured.plugin) }).list({
        kind: 'incident.opened',
        subject: 'incident:INC2',
      });
      expect(listed.map((e) => e.payload.i)).toEqual([2, 12, 22, 32]);

      const [query] = captured.queries;
      const compiled = store.db.getExecutor().compileQuery(query!.node, query!.queryId);
      const plan = await store.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      const details = plan.rows.map((row) => row.detail);
      expect(details.join('\n')).toMatch(new RegExp(`USING (COVERING )?INDEX ${INDEX} \\(`));
      expect(details.join('\n')).not.toMatch(/TEMP B-TREE/);
    } finally {
      await store.close();
    }
  });
});

/** A plugin that keeps every query Kysely runs through it, to explain them afterwards. */
function captureQueries(): {
  plugin: KyselyPlugin;
  queries: { node: RootOperationNode; queryId: QueryId }[];
} {
  const queries: { node: RootOperationNode; queryId: QueryId }[] = [];
  return {
    queries,
    plugin: {
      transformQuery: ({ node, queryId }) => {
        queries.push({ node, queryId });
        return node;
      },
      transformResult: async ({ result }) => result,
    },
  };
}
