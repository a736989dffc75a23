import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  connectedPorts,
  selectsConnectedAdapters,
  type ConnectedPorts,
} from '../adapters/workspace.ts';
import { loadConfig } from '../config/load.ts';
import type { ChangeproofConfig } from '../config/schema.ts';
import { EmbeddedSecretBroker } from '../embedded/secret-broker/broker.ts';
import {
  assertPrivateKeyProtected,
  keyPaths,
  loadPublicKeyPem,
} from '../embedded/secret-broker/keys.ts';
import { Ledger } from '../ledger/ledger.ts';
import { openStore, type Store } from '../store/open.ts';
import { workspacePaths, type WorkspacePaths } from './paths.ts';
import type { KeyName, SecretBroker } from '../domain/secret-broker.ts';

/** Everything a command needs from a workspace, opened once and closed once. */
export interface WorkspaceContext {
  paths: WorkspacePaths;
  config: ChangeproofConfig;
  store: Store;
  ledger: Ledger;
  broker: SecretBroker;
  /** The connected adapters changeproof.yaml selects; absent in local mode. */
  connected?: ConnectedPorts;
  /** The control-plane public key that checkpoints and verifications are checked with. */
  controlPlanePublicKey: string;
  close(): Promise<void>;
}

/**
 * Opens a workspace: its config, its keys, its store and ledger, and the adapters it selects.
 * The keys are checked before anything else is touched, so a command over a workspace whose key
 * is missing or readable by others is refused before it records or writes anything.
 */
export async function openWorkspace(
  root: string,
  /** `env`: where connected adapters read credentials; process.env by default. */
  options: { database?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkspaceContext> {
  const paths = workspacePaths(root);
  const config = loadConfig(paths.config);
  assertWorkspaceKeys(paths.keysDir, config);
  const controlPlanePublicKey = loadPublicKeyPem(paths.keysDir, 'control-plane');
  const store = await openStore(resolveDatabase(options.database ?? config.database, paths.root));
  const ledger = new Ledger(store);
  const embeddedBroker = new EmbeddedSecretBroker({ keysDir: paths.keysDir, store, ledger });
  const workspace: WorkspaceContext = {
    paths,
    config,
    store,
    ledger,
    broker: embeddedBroker,
    controlPlanePublicKey,
    close: () => store.close(),
  };
  if (!selectsConnectedAdapters(config)) return workspace;
  try {
    const connected = connectedPorts(config, {
      ledger,
      store,
      embeddedSecrets: embeddedBroker,
      ...(options.env ? { env: options.env } : {}),
    });
    workspace.connected = connected;
    workspace.broker = connected.secrets;
    // With Vault, checkpoints and verifications are signed by Vault's control-plane key.
    if (connected.secrets !== embeddedBroker)
      workspace.controlPlanePublicKey = await connected.secrets.publicKey('control-plane');
    return workspace;
  } catch (error) {
    await store.close();
    throw error;
  }
}

const WORKSPACE_KEYS: readonly KeyName[] = ['control-plane', 'pipeline'];

/**
 * With the embedded broker both private keys must be on disk and readable by their owner only.
 * With Vault the keys live in Vault, but a copy left on disk that others can read is still an
 * exposed key and is refused the same way.
 */
export function assertWorkspaceKeys(keysDir: string, config: ChangeproofConfig): void {
  const embedded = config.adapters.secrets === 'embedded';
  for (const name of WORKSPACE_KEYS) {
    if (embedded || existsSync(keyPaths(keysDir, name).privatePath)) {
      assertPrivateKeyProtected(keysDir, name);
    }
  }
}

/** A relative SQLite path in the config is relative to the workspace, not the caller's folder. */
export function resolveDatabase(url: string, root: string): string {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return url;
  const path = url.replace(/^sqlite:/, '');
  return isAbsolute(path) ? path : resolve(root, path);
}
