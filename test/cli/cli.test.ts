import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { toolPath } from '../../src/tools.ts';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
import { runCli, startCli } from '../support/cli.ts';

describe('changeproof CLI', () => {
  const base = mkdtempSync(join(tmpdir(), 'changeproof-cli-'));
  const ws = join(base, 'ws');

  beforeAll(() => {
    const init = runCli(['init', ws]);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('init lays out config, bare config repo, 0600 keys and database', () => {
    expect(existsSync(join(ws, 'changeproof.yaml'))).toBe(true);
    expect(existsSync(join(ws, 'config-repo.git', 'HEAD'))).toBe(true);
    expect(statSync(join(ws, 'keys', 'control-plane.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(ws, 'keys', 'pipeline.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(ws, 'changeproof.db'))).toBe(true);
  });

  it('init refuses to overwrite a workspace', () => {
    const before = readFileSync(join(ws, 'keys', 'pipeline.key'));
    const again = runCli(['init', ws]);
    expect(again.status).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/already a workspace; init refuses to overwrite it/);
    expect(readFileSync(join(ws, 'keys', 'pipeline.key'))).toEqual(before);
  });

  it('finds the workspace from the flag, the environment, or a parent folder', () => {
    expect(runCli(['ledger', 'verify', '--workspace', ws]).status).toBe(0);
    expect(runCli(['ledger', 'verify'], { env: { CHANGEPROOF_WORKSPACE: ws } }).status).toBe(0);
    expect(runCli(['ledger', 'verify'], { cwd: join(ws, 'keys') }).status).toBe(0);
    const nowhere = runCli(['ledger', 'verify'], { cwd: base });
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toMatch(/no changeproof\.yaml here or above; run changeproof init/);
  });

  it('seals, lists as json and verifies; a tampered entry fails verify naming it', () => {
    const empty = runCli(['ledger', 'seal', '-w', ws]);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/the ledger has no entries to seal yet/);
    // Issuing a token is a decision the ledger records.
    expect(runCli(['token', 'issue', 'erin', '-w', ws]).status).toBe(0);
    expect(runCli(['ledger', 'seal', '-w', ws]).status).toBe(0);
    const list = runCli(['ledger', 'list', '-w', ws, '--output', 'json']);
    const entries = JSON.parse(list.stdout) as { seq: number; kind: string }[];
    expect(entries.map((e) => e.kind)).toEqual([
      'identity.token-issued',
      'broker.lease.opened',
      'broker.lease.revoked',
    ]);
    const show = runCli(['ledger', 'show', '1', '-w', ws, '-o', 'yaml']);
    expect(show.stdout).toMatch(/^seq: 1$/m);
    expect(runCli(['ledger', 'verify', '-w', ws]).stdout).toMatch(
      /ledger intact: \d+ entries, 1 checkpoints/,
    );

    const copy = join(base, 'tampered');
    runCli(['init', copy]);
    runCli(['token', 'issue', 'erin', '-w', copy]);
    runCli(['ledger', 'seal', '-w', copy]);
    const sqlite = `update ledger_entries set actor = 'mallory' where seq = 1`;
    runSqlite(join(copy, 'changeproof.db'), sqlite);
    const verify = runCli(['ledger', 'verify', '-w', copy]);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toMatch(/ledger broken at entry 1: entry 1 does not match its hash/);
  });

  it('exits 2 on usage errors and unknown output formats', () => {
    expect(runCli(['ledger', 'show', 'abc', '-w', ws]).status).toBe(2);
    expect(runCli(['ledger', 'list', '-w', ws, '-o', 'xml']).status).toBe(2);
    expect(runCli(['no-such-command']).status).toBe(2);
    expect(runCli(['--help']).status).toBe(0);
  });

  it('refuses a malformed config file in one line and changes nothing', () => {
    const bad = join(base, 'bad');
    runCli(['init', bad]);
    const config = join(bad, 'changeproof.yaml');
    const text = readFileSync(config, 'utf8').replace('environments:', 'enviroments:');
    require('node:fs').writeFileSync(config, text);
    const result = runCli(['ledger', 'list', '-w', bad]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`${config}: `);
    expect(readFileSync(config, 'utf8')).toBe(text);
  });

  it('up prints each service, serves /healthz and OpenMetrics, and stops on SIGTERM', async () => {
    const child = startCli(['up', '-w', ws, '--port', '0']);
    const lines = await readLines(child.stdout!, 4);
    expect(lines.map((l) => l.split(' ')[0])).toEqual([
      'control-plane',
      'registry',
      'sandbox/sandbox-dev',
      'sandbox/sandbox-prod',
    ]);
    const url = lines[0]!.match(/^control-plane (http:\/\/127\.0\.0\.1:\d+)$/)?.[1];
    expect(url).toBeDefined();
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/application\/openmetrics-text/);
    expect(await metrics.text()).toMatch(/changeproof_ledger_entries \d+\n[\s\S]*# EOF\n$/);
    const endpoints = JSON.parse(readFileSync(join(ws, 'state', 'endpoints.json'), 'utf8'));
    expect(endpoints.endpoints[0].url).toBe(url);
    const registry = lines[1]!.split(' ')[1];
    expect((await fetch(`${registry}/v2/`)).status).toBe(200);
    const kubectl = spawnSync(
      toolPath('kubectl'),
      ['--context', 'sandbox-prod', 'get', 'namespaces', '-o', 'name'],
      {
        env: { ...process.env, KUBECONFIG: join(ws, 'kubeconfig') },
        encoding: 'utf8',
      },
    );
    expect(kubectl.stdout).toContain('namespace/default');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(existsSync(join(ws, 'state', 'endpoints.json'))).toBe(false);
  });
});

function runSqlite(file: string, statement: string): void {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.exec(statement);
  db.close();
}

async function readLines(stream: NodeJS.ReadableStream, count: number): Promise<string[]> {
  let buffer = '';
  for await (const chunk of stream) {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    if (lines.length > count) return lines.slice(0, count);
  }
  return buffer.split('\n');
}
