export {
  planPrune,
  type PruneDecision,
  type PrunePolicy,
  type ProtectedImage,
} from './prune-policy.ts';
export { productionImages, pruneRegistry, type PruneResult } from './prune.ts';
export { pruneRemoteRegistry } from './prune-remote.ts';
