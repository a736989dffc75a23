export {
  KubeClient,
  collectionPath,
  type ApplyOptions,
  type ListResult,
  type ObjectRef,
  type ResourceInfo,
} from './client.ts';
export {
  inClusterConfig,
  loadKubeconfig,
  type ExecPluginConfig,
  type KubeClientConfig,
} from './config.ts';
export type { ClientCredentials, CredentialSource } from './credentials.ts';
export { KubeError, type KubeErrorCode } from './errors.ts';
export type { WatchEventType, WatchHandle, WatchOptions } from './watch.ts';
