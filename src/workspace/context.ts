import { isAbsolute, resolve } from 'node:path';
import {
  connectedPorts,
  selectsConnectedAdapters,
  type ConnectedPorts,
} from '../adapters/workspace.ts';
import { loadConfig } from '../config/load.ts';
import type { ChangeproofConfig } from '../config/schema.ts';
import { EmbeddedSecretBroker } from '../embedded/secret-broker/broker.ts';
import { loadPublicKeyPem } from '../embedded/secret-broker/keys.ts';
import { Ledger } from '../ledger/ledger.ts';
import { openStore, type Store } from '../store/open.ts';
import { workspacePaths, type WorkspacePaths } from './paths.ts';
import type { SecretBroker } from '../domain/secret-broker.ts';

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

export async function openWorkspace(
  root: string,
  /** `env`: where connected adapters read credentials; process.env by default. */
  options: { database?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkspaceContext> {
  const paths = workspacePaths(root);
  const config = loadConfig(paths.config);
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

/** A relative SQLite path in the config is relative to the workspace, not the caller's folder. */
export function resolveDatabase(url: string, root: string): string {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return url;
  const path = url.replace(/^sqlite:/, '');
  return isAbsolute(path) ? path : resolve(root, path);
}
