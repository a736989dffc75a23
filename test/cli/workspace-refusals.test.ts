import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

/** Every file of a workspace with its mode and content hash: "nothing changed" made checkable. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const mode = (statSync(path).mode & 0o777).toString(8);
      const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
      files[relative(root, path)] = `${mode} ${hash}`;
    }
  };
  walk(root);
  return files;
}

/** The commands that open a workspace, each of which must be refused before it does anything. */
const commands: { name: string; args: (appDir: string) => string[] }[] = [
  { name: 'up', args: () => ['up', '--port', '0'] },
  { name: 'token issue', args: () => ['token', 'issue', 'erin'] },
  { name: 'ledger seal', args: () => ['ledger', 'seal'] },
  { name: 'ledger list', args: () => ['ledger', 'list'] },
  {
    name: 'deliver',
    args: (appDir) => ['deliver', '--service', 'checkout', '--env', 'dev', '--source', appDir],
  },
];

describe('opening a workspace', () => {
  const base = mkdtempSync(join(tmpdir(), 'changeproof-ws-refusals-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** A workspace with one token issued, so its ledger and database have something to lose. */
  function workspaceWithEvidence(name: string): string {
    const ws = join(base, name);
    expect(runCli(['init', ws]).status).toBe(0);
    expect(runCli(['token', 'issue', 'erin', '-w', ws]).status).toBe(0);
    return ws;
  }

  describe.each([
    {
      problem: 'readable by others',
      key: 'control-plane',
      breakKey: (file: string) => chmodSync(file, 0o644),
      message: (file: string) =>
        `changeproof: ${file}: key is readable by others (mode 644); run chmod 600 ${file} and rotate it`,
    },
    {
      problem: 'missing',
      key: 'control-plane',
      breakKey: (file: string) => unlinkSync(file),
      message: (file: string) =>
        `changeproof: ${file}: control-plane key is missing; restore it from backup`,
    },
    {
      problem: 'readable by others',
      key: 'pipeline',
      breakKey: (file: string) => chmodSync(file, 0o640),
      message: (file: string) =>
        `changeproof: ${file}: key is readable by others (mode 640); run chmod 600 ${file} and rotate it`,
    },
  ])('when the $key key is $problem', ({ key, breakKey, message, problem }) => {
    let ws: string;
    let keyFile: string;
    let before: Record<string, string>;
    beforeAll(() => {
      ws = workspaceWithEvidence(`${key}-${problem.replace(/ /g, '-')}`);
      keyFile = join(ws, 'keys', `${key}.key`);
      breakKey(keyFile);
      before = snapshot(ws);
    });

    it.each(commands)('$name refuses in one line, exits 1 and changes nothing', ({ args }) => {
      const result = runCli([...args(join(base, 'no-app')), '-w', ws]);

      expect(result.stderr.trim().split('\n')).toEqual([message(keyFile)]);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(snapshot(ws)).toEqual(before);
    });
  });

  describe('when the database file is corrupted', () => {
    let ws: string;
    let database: string;
    beforeAll(() => {
      ws = workspaceWithEvidence('corrupt-db');
      database = join(ws, 'changeproof.db');
      writeFileSync(database, 'this is not a database, someone wrote text over it\n');
    });

    it.each([
      ['ledger', 'list'],
      ['token', 'issue', 'erin'],
      ['ledger', 'verify'],
    ])('%s %s refuses in one line naming the file, exits 1', (...args) => {
      const result = runCli([...args, '-w', ws]);

      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^changeproof: ${database}: not a readable changeproof database .*restore it`),
      );
      expect(result.status).toBe(1);
      expect(readFileSync(database, 'utf8')).toMatch(/^this is not a database/);
    });
  });
});
