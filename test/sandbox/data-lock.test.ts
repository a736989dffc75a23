import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxLockError, startSandboxCluster } from '../../src/embedded/sandbox/index.ts';
import { removeDir, token } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-lock-'));
const children: ChildProcess[] = [];
const fixture = join(import.meta.dirname, 'fixtures/serve-sandbox.ts');

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  removeDir(dir);
});

/** Starts a sandbox in another Node process (its pid is the server's); resolves with its first line. */
function serveInChild(dataDir: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('\n')) resolve({ child, line: output.trim() });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

describe('the data directory lock', () => {
  it('refuses a second sandbox on the same directory in one process, until the first stops', async () => {
    const dataDir = join(dir, 'one-process');
    const first = await startSandboxCluster({ dataDir, token });
    const second = startSandboxCluster({ dataDir, token });
    await expect(second).rejects.toBeInstanceOf(SandboxLockError);
    await expect(second).rejects.toMatchObject({ code: 'DATA_DIR_IN_USE' });
    await expect(second).rejects.toThrow(
      new RegExp(`^sandbox data directory ${dataDir} is in use by process ${process.pid}: `),
    );

    await first.close();
    expect(existsSync(join(dataDir, 'sandbox.lock'))).toBe(false);
    const again = await startSandboxCluster({ dataDir, token });
    await again.close();
  });

  it('refuses a server in another process with a one-line error naming the owner', async () => {
    const dataDir = join(dir, 'two-processes');
    const owner = await startSandboxCluster({ dataDir, token });
    try {
      const { child, line } = await serveInChild(dataDir);
      await new Promise((resolve) => child.once('exit', resolve));
      expect(child.exitCode).toBe(1);
      expect(line.split('\n')).toHaveLength(1);
      expect(line).toContain(`is in use by process ${process.pid}`);
      expect(line).toContain(join(dataDir, 'sandbox.lock'));
    } finally {
      await owner.close();
    }
  });

  it('takes over the stale lock of a server that was killed', async () => {
    const dataDir = join(dir, 'killed');
    const { child, line } = await serveInChild(dataDir);
    expect(line).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(join(dataDir, 'sandbox.lock'), 'utf8')).toMatch(
      new RegExp(`^${child.pid} `),
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const successor = await startSandboxCluster({ dataDir, token });
    try {
      expect(readFileSync(join(dataDir, 'sandbox.lock'), 'utf8')).toMatch(
        new RegExp(`^${process.pid} `),
      );
    } finally {
      await successor.close();
    }
  });
});
