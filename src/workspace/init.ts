import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../config/load.ts';
import { ChangeproofError } from '../errors.ts';
import { generateKeyPair } from '../embedded/secret-broker/keys.ts';
import { git, identityArgs } from '../gitops/git.ts';
import { sampleConfigRepoFiles, writeFiles } from '../gitops/seed.ts';
import { openStore } from '../store/open.ts';
import { workspacePaths, type WorkspacePaths } from './paths.ts';
import { resolveDatabase } from './context.ts';

export class WorkspaceError extends ChangeproofError<'WORKSPACE_EXISTS' | 'WORKSPACE_NOT_EMPTY'> {}

export interface InitOptions {
  dir: string;
  name?: string;
  /** Fixed ports; by default init picks free loopback ports and writes them down. */
  serverPort?: number;
  registryPort?: number;
  /** Database URL; SQLite in the workspace by default. */
  database?: string;
  /** Production's retroactive-review window (72h by default); the demo shortens it. */
  productionReviewWindow?: string;
}

const SAMPLE_SERVICE = 'checkout';

/**
 * Creates a local workspace: changeproof.yaml, a bare config repo seeded with a sample service,
 * the control-plane and pipeline keys (0600), and the database. It refuses to touch a folder that
 * already holds a workspace, and removes what it wrote if any step fails.
 */
export async function initWorkspace(options: InitOptions): Promise<WorkspacePaths> {
  const paths = workspacePaths(options.dir);
  assertFresh(paths);
  const created = !existsSync(paths.root);
  mkdirSync(paths.root, { recursive: true });
  const written: string[] = [];
  try {
    const config = await configText(options);
    mkdirSync(paths.keysDir, { mode: 0o700 });
    written.push(paths.keysDir);
    generateKeyPair(paths.keysDir, 'control-plane');
    generateKeyPair(paths.keysDir, 'pipeline');
    mkdirSync(paths.stateDir, { recursive: true });
    written.push(paths.stateDir);
    written.push(paths.configRepo);
    await seedConfigRepo(paths.configRepo, config.registryHost);
    const store = await openStore(
      resolveDatabase(options.database ?? 'sqlite:changeproof.db', paths.root),
    );
    written.push(paths.database, `${paths.database}-wal`, `${paths.database}-shm`);
    await store.close();
    // The config file goes last: its presence is what marks a finished workspace.
    writeFileSync(paths.config, config.text, { flag: 'wx' });
    return paths;
  } catch (error) {
    for (const path of written) rmSync(path, { recursive: true, force: true });
    if (created) rmSync(paths.root, { recursive: true, force: true });
    throw error;
  }
}

function assertFresh(paths: WorkspacePaths): void {
  if (existsSync(paths.config)) {
    throw new WorkspaceError(
      'WORKSPACE_EXISTS',
      `${paths.root} is already a workspace; init refuses to overwrite it`,
    );
  }
  for (const path of [paths.keysDir, paths.configRepo, paths.database]) {
    if (existsSync(path)) {
      throw new WorkspaceError(
        'WORKSPACE_NOT_EMPTY',
        `${path} already exists; init into an empty folder`,
      );
    }
  }
}

async function configText(options: InitOptions): Promise<{ text: string; registryHost: string }> {
  const serverPort = options.serverPort ?? (await freePort());
  const registryPort = options.registryPort ?? (await freePort());
  const document = {
    apiVersion: 'changeproof.dev/v1alpha1',
    kind: 'Workspace',
    name: options.name ?? 'local',
    database: options.database ?? 'sqlite:changeproof.db',
    server: { host: '127.0.0.1', port: serverPort },
    registry: { port: registryPort },
    services: {
      [SAMPLE_SERVICE]: {
        owner: 'team-payments',
        test: 'npm test',
        scan: { policy: 'block-critical' },
      },
    },
    environments: [
      {
        name: 'dev',
        order: 1,
        cluster: 'sandbox-dev',
        governance: { approvals: 0, autoApproveOnGreen: true },
      },
      {
        name: 'staging',
        order: 2,
        cluster: 'sandbox-dev',
        governance: { approvals: 0, autoApproveOnGreen: true },
      },
      {
        name: 'prod',
        order: 3,
        cluster: 'sandbox-prod',
        production: true,
        governance: {
          approvals: 1,
          cabRequired: true,
          nonRoutineApprovals: 2,
          emergencyReviewWindow: options.productionReviewWindow ?? '72h',
        },
      },
    ],
    clusters: { 'sandbox-dev': { type: 'sandbox' }, 'sandbox-prod': { type: 'sandbox' } },
    identities: [
      { name: 'alice', roles: ['developer'], team: 'payments' },
      { name: 'bob', roles: ['approver'], team: 'payments' },
      { name: 'carol', roles: ['cab', 'approver'], team: 'change-board' },
      { name: 'dave', roles: ['oncall', 'developer'], team: 'sre' },
      { name: 'erin', roles: ['auditor'], team: 'internal-audit' },
      { name: 'pat', roles: ['platform-admin'], team: 'platform' },
    ],
  };
  const header = '# changeproof workspace configuration: see the README for every key.\n';
  const text = header + stringify(document, { lineWidth: 100 });
  parseConfig(text); // what init writes must be what load accepts
  return { text, registryHost: `127.0.0.1:${registryPort}` };
}

async function seedConfigRepo(bareRepo: string, registryHost: string): Promise<void> {
  const scratch = mkdtempSync(join(bareRepo + '-seed-'));
  try {
    await git(['init', '--quiet', '--bare', '--initial-branch=main', bareRepo], { cwd: scratch });
    await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: scratch });
    writeFiles(
      scratch,
      sampleConfigRepoFiles({
        service: SAMPLE_SERVICE,
        environments: [
          { name: 'dev', production: false },
          { name: 'staging', production: false },
          { name: 'prod', production: true },
        ],
        imageName: `${registryHost}/${SAMPLE_SERVICE}`,
      }),
    );
    await git(['add', '--all'], { cwd: scratch });
    const who = identityArgs('changeproof', 'changeproof@localhost');
    await git([...who, 'commit', '--quiet', '-m', 'Seed the config repo with a sample service'], {
      cwd: scratch,
    });
    await git(['push', '--quiet', bareRepo, 'main'], { cwd: scratch });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A free loopback port, found by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}
