import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DeliveryError } from '../errors.ts';
import { summariseJunit, type JunitSummary } from '../junit.ts';
import type { StepOutcome } from '../run.ts';

export interface TestRun {
  command: string;
  exitCode: number;
  durationMs: number;
  junit?: JunitSummary;
}

/** Variables that would hand the user's tests a cluster credential; the pipeline holds none. */
export const clusterCredentialVariables = [
  'KUBECONFIG',
  'CHANGEPROOF_KUBECONFIG',
  'KUBERNETES_SERVICE_HOST',
];

/**
 * Runs the service's test command in the source tree through the shell. Its output goes to
 * `output` (the CLI passes stderr, since stdout carries the JSON result); its exit code,
 * duration and JUnit summary (when `junitFile` exists afterwards) are the step's evidence.
 */
export async function runTestStep(options: {
  command: string;
  dir: string;
  junitFile?: string;
  output?: NodeJS.WritableStream;
}): Promise<StepOutcome<TestRun>> {
  const started = performance.now();
  const exitCode = await runShell(options.command, options.dir, options.output);
  const durationMs = Math.round(performance.now() - started);
  const junit = readJunit(options.dir, options.junitFile);
  const run: TestRun = {
    command: options.command,
    exitCode,
    durationMs,
    ...(junit ? { junit } : {}),
  };
  if (exitCode !== 0) {
    throw new DeliveryError(
      'TEST_FAILED',
      `tests failed: ${options.command} exited ${exitCode}${junit ? ` (${junit.failures} failure(s), ${junit.errors} error(s))` : ''}; fix them before delivering`,
      { details: { ...run } },
    );
  }
  const outputs = {
    command: run.command,
    exitCode,
    testDurationMs: durationMs,
    ...(junit ? { junit: { ...junit } } : {}),
  };
  return { value: run, outputs, detail: junit ? `${junit.tests} tests` : options.command };
}

/** The environment the test command runs with: the run's own, less any cluster credential. */
export function testCommandEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const handed = { ...env };
  for (const name of clusterCredentialVariables) delete handed[name];
  return handed;
}

function runShell(command: string, cwd: string, output?: NodeJS.WritableStream): Promise<number> {
  const env = testCommandEnvironment(process.env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (output) {
      child.stdout.pipe(output, { end: false });
      child.stderr.pipe(output, { end: false });
    } else {
      child.stdout.resume();
      child.stderr.resume();
    }
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

function readJunit(dir: string, file: string | undefined): JunitSummary | undefined {
  if (!file) return undefined;
  const path = resolve(dir, file);
  return existsSync(path) ? summariseJunit(readFileSync(path, 'utf8')) : undefined;
}
