import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RunningRegistry } from '../../../src/embedded/registry/index.ts';
import { demoAppDir } from '../../../src/delivery/defaults.ts';
import type { DeliveryDeps } from '../../../src/delivery/types.ts';
import { git, identityArgs } from '../../../src/gitops/git.ts';
import { openWorkspace, type WorkspaceContext } from '../../../src/workspace/context.ts';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { changeManagementFor } from '../../../src/change/index.ts';
import type { Forge } from '../../../src/domain/forge.ts';

/** A workspace, its embedded registry and a checkout of the demo app, all in a temp folder. */
export interface DeliveryFixture {
  root: string;
  ws: WorkspaceContext;
  registry: RunningRegistry;
  /** The real embedded forge, wired to change management as `changeproof up` wires it. */
  forge: Forge;
  appDir: string;
  deps(overrides?: Partial<DeliveryDeps>): DeliveryDeps;
  close(): Promise<void>;
}

export async function deliveryFixture(): Promise<DeliveryFixture> {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-deliver-'));
  await initWorkspace({ dir: join(root, 'ws'), name: 'deliver-test' });
  const ws = await openWorkspace(join(root, 'ws'));
  // The seeded overlays name the registry by the port init chose, so the registry takes it.
  const registry = await startRegistry({
    dataDir: ws.paths.registryDir,
    port: ws.config.registry.port,
  });
  const forge = changeManagementFor(ws).forge;
  const appDir = await demoAppCheckout(join(root, 'app'));
  return {
    root,
    ws,
    registry,
    forge,
    appDir,
    deps: (overrides = {}) => ({
      config: ws.config,
      ledger: ws.ledger,
      broker: ws.broker,
      forge,
      registry: { host: registry.host, insecure: true },
      ...overrides,
    }),
    async close() {
      await registry.close();
      await ws.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Copies the demo app into `dir` as a git repo with one commit on `main`. */
export async function demoAppCheckout(dir: string): Promise<string> {
  cpSync(demoAppDir, dir, { recursive: true, filter: (path) => !path.endsWith('junit.xml') });
  await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: dir });
  await git(['add', '--all'], { cwd: dir });
  await commitAll(dir, 'Demo app');
  return dir;
}

export async function commitAll(dir: string, message: string): Promise<string> {
  await git(['add', '--all'], { cwd: dir });
  await git([...identityArgs('alice', 'alice@example.test'), 'commit', '--quiet', '-m', message], {
    cwd: dir,
  });
  return (await git(['rev-parse', 'HEAD'], { cwd: dir })).trim();
}
