import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry, type RegistryOptions } from '../../src/embedded/registry/index.ts';

/** Whether an outside binary is on PATH; tests that need it say loudly when it is not. */
export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export function warnMissing(binary: string, debianPackage: string): void {
  if (!hasBinary(binary)) {
    console.warn(
      `\n*** SKIPPING: ${binary} is not installed (apt-get install -y ${debianPackage}) ***\n`,
    );
  }
}

/** A temporary directory removed by the returned function. */
export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The embedded registry on a fresh temporary data directory. */
export async function startTestRegistry(options: Partial<RegistryOptions> = {}) {
  const directory = temporaryDirectory('changeproof-registry-');
  const registry = await startRegistry({ dataDir: directory.path, ...options });
  return {
    ...registry,
    dataDir: directory.path,
    async stop() {
      await registry.close();
      directory.remove();
    },
  };
}

/** A loopback port nothing listens on (at the moment of asking). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The Debian `docker-registry` (CNCF distribution 2.x) on a loopback port, storing under a
 * temporary directory, with deletes enabled unless `deleteEnabled` is false.
 */
export async function startDockerRegistry(
  options: { deleteEnabled?: boolean } = {},
): Promise<{ host: string; stop: () => Promise<void> }> {
  const directory = temporaryDirectory('docker-registry-');
  const port = await freePort();
  const config = join(directory.path, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error }',
      'storage:',
      `  filesystem: { rootdirectory: ${join(directory.path, 'data')} }`,
      `  delete: { enabled: ${options.deleteEnabled ?? true} }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  await waitForHttp(`http://${host}/v2/`, child);
  return {
    host,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) =>
        child.exitCode === null ? child.once('exit', resolve) : resolve(null),
      );
      directory.remove();
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`docker-registry did not answer ${url} within 10 s`);
}
