import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import { createTestDatabase, postgresAvailable, POSTGRES_ADMIN_URL } from '../support/postgres.ts';

describe('openStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-open-'));
  afterEach(() => rmSync(join(dir, 'x.db'), { force: true }));

  it('refuses a file that is not a SQLite database and leaves it untouched', async () => {
    const file = join(dir, 'x.db');
    writeFileSync(file, 'this is not sqlite, just text that someone wrote over the database');
    await expect(openStore(`sqlite:${file}`)).rejects.toMatchObject({ code: 'DATABASE_CORRUPT' });
    expect(readFileSync(file, 'utf8')).toMatch(/^this is not sqlite/);
  });

  it('refuses a SQLite file whose pages were overwritten', async () => {
    const file = join(dir, 'x.db');
    const store = await openStore(`sqlite:${file}`);
    await store.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100, Math.min(bytes.length, 8192));
    writeFileSync(file, bytes);
    await expect(openStore(`sqlite:${file}`)).rejects.toThrow(
      /x\.db: not a readable changeproof database/,
    );
  });

  it('reports an unreachable PostgreSQL as an outside system, without the password', async () => {
    const error = await openStore('postgres://user:secret@127.0.0.1:1/db').catch((e) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', category: 'upstream' });
    expect(error.message).not.toContain('secret');
  });
});

describe.runIf(postgresAvailable)('openStore on PostgreSQL', () => {
  it('survives the server terminating its idle connections, and the next query works', async () => {
    const database = await createTestDatabase();
    const store = await openStore(database.url);
    try {
      await store.db.selectFrom('ledger_entries').select('seq').execute();
      const name = new URL(database.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await admin.connect();
      const terminated = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
        [name],
      );
      await admin.end();
      expect(terminated.rowCount).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Without an error handler on the pool, pg would have thrown an uncaught exception by now.
      const rows = await store.db.selectFrom('ledger_entries').select('seq').execute();
      expect(rows).toEqual([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
