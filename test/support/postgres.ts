import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests: CHANGEPROOF_TEST_POSTGRES_URL, or the cluster scripts/start-postgres.sh
 * starts. Each test file gets its own database and drops it afterwards.
 */
export const POSTGRES_ADMIN_URL =
  process.env.CHANGEPROOF_TEST_POSTGRES_URL ?? 'postgres://changeproof@127.0.0.1:55432/postgres';

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: POSTGRES_ADMIN_URL,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Set by the global setup: whether PostgreSQL answered when the run started. */
export const postgresAvailable = process.env.CHANGEPROOF_TEST_POSTGRES_AVAILABLE === '1';

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `changeproof_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
