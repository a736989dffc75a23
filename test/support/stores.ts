import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/open.ts';
import { createTestDatabase, postgresAvailable } from './postgres.ts';

export type Engine = 'sqlite' | 'postgres';

/** The engines a store test runs on: both, unless PostgreSQL is absent outside CI. */
export const engines: Engine[] = postgresAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

/** A fresh, migrated database of `engine` and a way to remove it. */
export async function freshDatabase(
  engine: Engine,
): Promise<{ url: string; dispose(): Promise<void> }> {
  if (engine === 'postgres') {
    const database = await createTestDatabase();
    return { url: database.url, dispose: database.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-store-'));
  return {
    url: `sqlite:${join(dir, 'test.db')}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function freshStore(
  engine: Engine,
): Promise<{ store: Store; url: string; dispose(): Promise<void> }> {
  const database = await freshDatabase(engine);
  const store = await openStore(database.url);
  return {
    store,
    url: database.url,
    async dispose() {
      await store.close().catch(() => undefined);
      await database.dispose();
    },
  };
}
