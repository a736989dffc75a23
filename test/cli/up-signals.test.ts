import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../support/cli.ts';

const bin = join(repoRoot, 'bin', 'changeproof.mjs');

/**
 * `up` in its own process group, as a shell starts a foreground job: a Ctrl-C there sends
 * SIGINT to the whole group, which is what `interrupt` does.
 */
function startUp(ws: string) {
  const child = spawn(process.execPath, [bin, 'up', '-w', ws, '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output, exited, interrupt: () => process.kill(-child.pid!, 'SIGINT') };
}

type RunningUp = ReturnType<typeof startUp>;

/** Resolves once the child has written `text` to `stream`; throws if it exits first. */
async function waitFor(up: RunningUp, stream: 'stdout' | 'stderr', text: string): Promise<void> {
  while (!up.output[stream].includes(text)) {
    const exited = await Promise.race([
      once(up.child[stream]!, 'data').then(() => false),
      up.exited.then(() => true),
    ]);
    if (exited) throw new Error(`up exited before writing "${text}": ${up.output.stderr}`);
  }
}

describe('changeproof up stops cleanly on SIGINT (Ctrl-C)', () => {
  const base = mkdtempSync(join(tmpdir(), 'changeproof-up-signals-'));
  const ws = join(base, 'ws');
  const running: ChildProcess[] = [];

  beforeAll(() => {
    expect(runCli(['init', ws]).status).toBe(0);
  });
  afterEach(() => {
    for (const child of running.splice(0)) {
      if (child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid!, 'SIGKILL');
    }
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('once up: exits 0 and removes its endpoints, as on SIGTERM', async () => {
    const up = startUp(ws);
    running.push(up.child);
    await waitFor(up, 'stdout', 'sandbox/sandbox-prod ');
    expect(existsSync(join(ws, 'state', 'endpoints.json'))).toBe(true);

    up.interrupt();
    const [code, signal] = await up.exited;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(up.output.stderr).toMatch(/"signal":"SIGINT","msg":"control plane stopping"/);
    expect(existsSync(join(ws, 'state', 'endpoints.json'))).toBe(false);
    expect(runCli(['ledger', 'verify', '-w', ws]).status).toBe(0);
  });

  it('while still starting: finishes starting, closes everything and exits 0', async () => {
    const up = startUp(ws);
    running.push(up.child);
    await waitFor(up, 'stderr', 'control plane starting');

    up.interrupt();
    const [code, signal] = await up.exited;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(up.output.stderr).toMatch(/"signal":"SIGINT","msg":"control plane stopping"/);
    expect(up.output.stdout).toBe('');
    expect(existsSync(join(ws, 'state', 'endpoints.json'))).toBe(false);
    expect(runCli(['ledger', 'verify', '-w', ws]).status).toBe(0);
  });
});
