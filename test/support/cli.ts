import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(repoRoot, 'bin', 'changeproof.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real changeproof binary to completion. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'warn', ...options.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the binary in the background, e.g. `up`; the caller signals it. */
export function startCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  return spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
