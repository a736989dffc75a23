import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';

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
