import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  sql,
} from 'kysely';
import type { DatabaseConnection, SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { UpstreamError, messageOf } from '../errors.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { StoreError } from './errors.ts';

export type StoreDialect = 'sqlite' | 'postgres';

/** An open database with its migrations applied. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** Where it lives, without credentials, for messages. */
  readonly location: string;
  /**
   * Runs `work` as one transaction that holds the store-wide write lock, so that writers in
   * other processes wait instead of interleaving (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
   * transaction-scoped advisory lock).
   */
  exclusive<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SQLITE_HEADER = 'SQLite format 3\0';
const WRITE_LOCK_KEY = 0x6368616e; // "chan": one advisory lock for the ledger's writers

/** Opens `sqlite:<path>`, a plain file path, or `postgres://…`, and migrates it. */
export async function openStore(url: string): Promise<Store> {
  const store =
    url.startsWith('postgres://') || url.startsWith('postgresql://')
      ? await openPostgres(url)
      : openSqlite(url.replace(/^sqlite:/, ''));
  await migrate(store);
  return store;
}

function openSqlite(path: string): Store {
  assertSqliteFile(path);
  let database: BetterSqlite3.Database;
  try {
    database = new BetterSqlite3(path);
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 30000');
    // FULL: a commit is on disk before append() resolves, so acknowledged evidence survives.
    database.pragma('synchronous = FULL');
    database.pragma('quick_check(1)');
  } catch (error) {
    throw corrupt(path, error);
  }
  const db = new Kysely<Database>({ dialect: new TransactionalSqliteDialect({ database }) });
  return {
    db,
    dialect: 'sqlite',
    location: path,
    exclusive: (work) =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await work(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => undefined);
          throw error;
        }
      }),
    close: () => db.destroy(),
  };
}

/**
 * SQLite runs DDL inside transactions, though Kysely's adapter does not claim it. Claiming it
 * makes each migration batch atomic, so a process killed mid-migration leaves the previous
 * schema instead of a half-made one that no later open can migrate. `begin immediate` takes the
 * write lock up front, so processes migrating at once wait for each other.
 */
class TransactionalSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createAdapter(): SqliteAdapter {
    return new (class extends SqliteAdapter {
      override get supportsTransactionalDdl(): boolean {
        return true;
      }
    })();
  }

  override createDriver(): SqliteDriver {
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
    })(this.settings);
  }
}

function assertSqliteFile(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    const read = readSync(fd, header, 0, 16, 0);
    if (read > 0 && header.subarray(0, read).toString('latin1') !== SQLITE_HEADER.slice(0, read)) {
      throw corrupt(path, new Error('bad header'));
    }
  } finally {
    closeSync(fd);
  }
}

function corrupt(path: string, cause: unknown): StoreError {
  return new StoreError(
    'DATABASE_CORRUPT',
    `${path}: not a readable changeproof database (${messageOf(cause)}); restore it from a backup`,
    { category: 'internal', cause },
  );
}

async function openPostgres(url: string): Promise<Store> {
  const location = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    // bigint columns (seq, tree_size) fit in a JS number for any ledger this side of 2^53.
    types: {
      getTypeParser: (oid, format) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format)),
    },
  });
  // A server restart or an administrator terminating sessions errors the idle connections. Left
  // unhandled, pg re-emits that as an uncaught exception that kills the process; the query that
  // next needs a connection gets a fresh one, or the outage as an error, instead.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new UpstreamError('postgresql', `cannot connect to ${location}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location,
    exclusive: (work) =>
      db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx);
        return work(trx);
      }),
    close: () => db.destroy(),
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    throw new StoreError(
      'DATABASE_URL_INVALID',
      `database URL is not valid: use postgres://user@host/db`,
      {
        category: 'usage',
      },
    );
  }
}

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await store.close();
    if (isCorruption(error)) throw corrupt(store.location, error);
    throw new StoreError(
      'MIGRATION_FAILED',
      `${store.location}: migration failed: ${messageOf(error)}`,
      {
        category: 'internal',
        cause: error,
      },
    );
  }
}

function isCorruption(error: unknown): boolean {
  return /SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(messageOf(error));
}
