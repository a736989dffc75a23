import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { toolPath } from '../../../src/tools.ts';

/**
 * A TypeScript program run in its own process so that it can be killed with SIGKILL at a chosen
 * moment. The program is bundled once (see `bundleFixture`) so each start costs a plain node
 * start, not a TypeScript loader's: hundreds of kills then fit in the suite's time. The program prints `ready` once its modules are loaded, waits for
 * `go` on stdin, and prints one line per acknowledged step; the parent keeps every line it
 * received before the kill, which is exactly what the program acknowledged.
 */
export class Victim {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private stderr = '';
  private partial = '';
  private waiters: Array<{ test: (line: string) => boolean; resolve(): void }> = [];

  constructor(bundle: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    // A .ts program runs through tsx: slower to start, but its import.meta.url is its own.
    const loader = bundle.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.child = spawn(process.execPath, [...loader, bundle, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // A bundle's import.meta.url is the bundle's, so the tools are named by environment.
      env: {
        ...process.env,
        CHANGEPROOF_KUBECTL: toolPath('kubectl'),
        CHANGEPROOF_HELM: toolPath('helm'),
        ...env,
      },
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.receive(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    // A killed child closes stdin under us; the write error is expected then.
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves at the first line (already received or to come) that passes `test`. */
  async waitForLine(test: (line: string) => boolean, timeoutMs = 60_000): Promise<void> {
    if (this.lines.some(test)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching line within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      void this.exited.then(() =>
        reject(new Error(`the program exited before the line; stderr: ${this.stderr}`)),
      );
    });
  }

  /** Tells the program to start its work. */
  go(): void {
    this.child.stdin!.write('go\n');
  }

  /** Kills the program with SIGKILL after `delayMs` and resolves once it is gone. */
  async killAfter(delayMs: number): Promise<{ killed: boolean }> {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const killed = this.child.exitCode === null && this.child.signalCode === null;
    if (killed) this.child.kill('SIGKILL');
    const exit = await this.exited;
    if (!killed && exit.code !== 0) {
      throw new Error(`the program failed before the kill (${exit.code}): ${this.stderr}`);
    }
    return { killed };
  }

  /** The program's last stderr, for failure messages. */
  get errors(): string {
    return this.stderr;
  }

  private receive(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.lines.push(line);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve();
        return false;
      });
    }
  }
}

/** Reads `go` from stdin: what a victim program awaits after printing `ready`. */
export async function awaitGo(): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('go')) resolve();
    });
  });
}

/** The path of the fixture program `name`, to run unbundled. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * Bundles the fixture program `name` (test/reliability/fixtures) with the project's sources into
 * one ES module under node_modules/.cache, where it still resolves the installed packages.
 * Returns its path.
 */
export async function bundleFixture(name: string): Promise<string> {
  const source = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const outDir = fileURLToPath(
    new URL('../../../node_modules/.cache/changeproof-reliability/', import.meta.url),
  );
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, basename(name).replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}
