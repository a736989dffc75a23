import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Matrix, Me } from '../../src/server/routes/read-api-types.ts';

/*
 * `changeproof demo --keep-running` as a person runs it: the story plays, then the command prints
 * the dashboard's address and a token, and the control plane stays up until Ctrl-C.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-demo-running-'));
const bin = join(import.meta.dirname, '..', '..', 'bin', 'changeproof.mjs');
let demo: ChildProcess | undefined;

afterAll(() => {
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Collects the child's stdout until `marker` appears, and returns it all. */
function outputUntil(child: ChildProcess, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(marker)) resolve(output);
    });
    child.once('exit', (code) =>
      reject(new Error(`demo exited (${code}) before "${marker}":\n${output}`)),
    );
  });
}

describe('changeproof demo --keep-running', () => {
  it('prints the dashboard URL and a token that reads the matrix, and stops on SIGINT', async () => {
    demo = spawn(
      process.execPath,
      [bin, 'demo', '--keep-running', '--workspace', join(root, 'ws')],
      {
        env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'error' },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const output = await outputUntil(demo, 'press Ctrl-C to stop');

    const dashboard = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)$/m.exec(output);
    const printed = /^token \((\w+), ([\w, -]+)\): (\S+)$/m.exec(output);
    expect(dashboard, output).not.toBeNull();
    expect(printed, output).not.toBeNull();
    const [, base, tokenInUrl] = dashboard!;
    const [, user, roles, token] = printed!;
    expect(token).toBe(tokenInUrl);

    const headers = { authorization: `Bearer ${token}` };
    const me = (await (await fetch(`${base}/api/me`, { headers })).json()) as Me;
    expect(me).toMatchObject({ name: user, roles: roles!.split(', ') });
    const response = await fetch(`${base}/api/matrix`, { headers });
    expect(response.status).toBe(200);
    const matrix = (await response.json()) as Matrix;
    const prod = matrix.cells.find((cell) => cell.app === 'prod/checkout');
    expect(prod).toMatchObject({ sync: 'synced', health: 'Healthy' });
    expect(prod?.deployment).toMatch(/^prod\/checkout\/\d+$/);
    expect((await fetch(`${base}/api/matrix`)).status).toBe(401);
    const page = await fetch(`${base}/`);
    expect(await page.text()).toContain('<div id="root">');

    const exited = new Promise<number | null>((resolve) => demo!.once('exit', resolve));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 240_000);
});
