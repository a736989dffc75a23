import { postgresReachable, POSTGRES_ADMIN_URL } from './postgres.ts';

/**
 * Checks once whether PostgreSQL answers. In CI its absence fails the run: CI must test both
 * engines. Elsewhere the PostgreSQL cases are skipped and the summary says so loudly.
 */
export default async function setup(): Promise<() => void> {
  const available = await postgresReachable();
  process.env.CHANGEPROOF_TEST_POSTGRES_AVAILABLE = available ? '1' : '0';
  if (!available && process.env.CI) {
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL}; .ci/run must start it`);
  }
  return () => {
    const banner = available
      ? `PostgreSQL: store and ledger tests ran against SQLite and PostgreSQL (${POSTGRES_ADMIN_URL})`
      : `!!! PostgreSQL NOT REACHABLE at ${POSTGRES_ADMIN_URL}: PostgreSQL tests were SKIPPED. Run scripts/start-postgres.sh !!!`;
    process.stdout.write(`\n${banner}\n`);
  };
}
