import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startSandboxCluster,
  type SandboxCluster,
  type SandboxOptions,
} from '../../src/embedded/sandbox/index.ts';
import { toolPath } from '../../src/tools.ts';

export const token = 'sandbox-test-token';

/** A running sandbox with its own data directory, kubeconfig and kubectl cache. */
export interface TestSandbox {
  cluster: SandboxCluster;
  dir: string;
  dataDir: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

export async function startTestSandbox(
  options: Partial<SandboxOptions> = {},
  dir = mkdtempSync(join(tmpdir(), 'sandbox-')),
): Promise<TestSandbox> {
  const dataDir = join(dir, 'data');
  const cluster = await startSandboxCluster({ dataDir, token, rolloutDelayMs: 100, ...options });
  const kubeconfig = join(dir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfig);
  return {
    cluster,
    dir,
    dataDir,
    kubeconfig,
    stop: async () => {
      await cluster.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bundled kubectl 1.34 against a sandbox. Asynchronous on purpose: the sandbox serves
 * from this process, so a blocking spawn would deadlock.
 */
export function kubectl(
  sandbox: TestSandbox,
  args: string[],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      toolPath('kubectl'),
      args,
      // HOME keeps kubectl's discovery and OpenAPI cache per test sandbox.
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: sandbox.dir,
          KUBECONFIG: sandbox.kubeconfig,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A parsed JSON response body, read loosely by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export interface ApiResponse {
  status: number;
  body: Loose;
  text: string;
}

/** A raw request to the sandbox's API, as the project's own client would make it. */
export function api(
  sandbox: TestSandbox,
  method: string,
  path: string,
  body?: unknown,
  options: { contentType?: string; token?: string | null; accept?: string } = {},
): Promise<ApiResponse> {
  const payload =
    body === undefined
      ? undefined
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? body
        : JSON.stringify(body);
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? token}`;
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(path, sandbox.cluster.url),
      { method, headers, ca: sandbox.cluster.caCertificatePem },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: incoming.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Polls until `check` returns true or the time is up. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

export function deployment(
  name: string,
  image = 'registry.local/web:1.0',
  replicas = 2,
): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}
