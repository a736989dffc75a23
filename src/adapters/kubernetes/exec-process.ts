import { spawn } from 'node:child_process';
import type { ExecPluginConfig } from './config.ts';
import { pluginFailure } from './exec-failure.ts';

/** A credential plugin's answer; stdout holds the credential and is never logged. */
export interface PluginOutput {
  stdout: string;
}

/** No credential is this large; a plugin printing more is printing something else. */
const maxOutputBytes = 1024 * 1024;

/**
 * Runs a credential plugin once, without a terminal: stdin is closed and `spec.interactive` is
 * false, so a plugin that needs a prompt fails instead of waiting. Killed after `timeoutMs`.
 * Asynchronous on purpose: the cluster it authenticates to may serve from this process.
 */
export function runPlugin(config: ExecPluginConfig, timeoutMs: number): Promise<PluginOutput> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends whatever the plugin started (a shell's
    // children would otherwise hold stdout open).
    const child = spawn(config.command, config.args ?? [], {
      env: pluginEnvironment(config),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout = new BoundedText();
    const stderr = new BoundedText();
    child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));

    const timer = setTimeout(() => {
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(pluginFailure(config, `gave no credential within ${timeoutMs / 1000} s`));
    }, timeoutMs);

    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? notInstalled(config, error) : failed(config, error.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(failed(config, firstLine(stderr.text()) ?? `exit ${code ?? signal}`));
      } else if (stdout.overflowed) {
        reject(pluginFailure(config, `printed over ${maxOutputBytes} bytes`));
      } else {
        resolve({ stdout: stdout.text() });
      }
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * The process environment, then the kubeconfig's `env`, then KUBERNETES_EXEC_INFO: the
 * ExecCredential request (`spec.cluster` only when the kubeconfig sets provideClusterInfo).
 */
function pluginEnvironment(config: ExecPluginConfig): NodeJS.ProcessEnv {
  const request = {
    apiVersion: config.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(config.cluster ? { cluster: config.cluster } : {}) },
  };
  return {
    ...process.env,
    ...Object.fromEntries((config.env ?? []).map((entry) => [entry.name, entry.value])),
    KUBERNETES_EXEC_INFO: JSON.stringify(request),
  };
}

function failed(config: ExecPluginConfig, reason: string) {
  return pluginFailure(config, `failed: ${reason}`);
}

/** kubectl shows the kubeconfig's installHint here; it may span lines, an error may not. */
function notInstalled(config: ExecPluginConfig, cause: unknown) {
  const hint = config.installHint?.replace(/\s+/g, ' ').trim() || undefined;
  return pluginFailure(config, 'is not installed (not found on PATH)', {
    cause,
    hint: hint ?? 'install it or fix users[].user.exec.command in the kubeconfig',
  });
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.length > 0);
}

/** Collects a stream's text up to {@link maxOutputBytes}, remembering whether it overflowed. */
class BoundedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  add(chunk: Buffer): void {
    if (this.size + chunk.length > maxOutputBytes) {
      this.overflowed = true;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
