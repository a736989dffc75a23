import { join, resolve } from 'node:path';

/** The files a workspace holds, by role. One place decides the layout. */
export interface WorkspacePaths {
  root: string;
  config: string;
  keysDir: string;
  configRepo: string;
  database: string;
  /** Addresses of the services `changeproof up` started, for other commands to find. */
  endpoints: string;
  kubeconfig: string;
  registryDir: string;
  sandboxDir: string;
  stateDir: string;
}

export const CONFIG_FILE = 'changeproof.yaml';

export function workspacePaths(root: string): WorkspacePaths {
  const absolute = resolve(root);
  return {
    root: absolute,
    config: join(absolute, CONFIG_FILE),
    keysDir: join(absolute, 'keys'),
    configRepo: join(absolute, 'config-repo.git'),
    database: join(absolute, 'changeproof.db'),
    endpoints: join(absolute, 'state', 'endpoints.json'),
    kubeconfig: join(absolute, 'kubeconfig'),
    registryDir: join(absolute, 'registry'),
    sandboxDir: join(absolute, 'sandbox'),
    stateDir: join(absolute, 'state'),
  };
}
