import { durationMs, type ChangeproofConfig } from '../../config/schema.ts';
import { evidenceOf } from '../../domain/evidence.ts';
import type { RegistryStorage } from '../../embedded/registry/maintenance.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import {
  planPrune,
  type PruneDecision,
  type PrunePolicy,
  type ProtectedImage,
} from './prune-policy.ts';

export interface PruneResult {
  dryRun: boolean;
  decisions: PruneDecision[];
  deleted: number;
  kept: number;
  freedBytes: number;
  protectedImages: number;
}

/**
 * Images pinned by a production deployment the ledger recorded (`sync.completed` in an
 * environment marked production) within the evidence retention period: an auditor may ask for
 * any of them, so none may be deleted.
 */
/** The result a plan gives before anything is deleted, and the decisions that delete. */
export function plannedResult(
  decisions: PruneDecision[],
  protectedImages: number,
  dryRun: boolean,
): { result: PruneResult; doomed: PruneDecision[] } {
  const doomed = decisions.filter((decision) => decision.action === 'delete');
  const result: PruneResult = {
    dryRun,
    decisions,
    deleted: doomed.length,
    kept: decisions.length - doomed.length,
    freedBytes: 0,
    protectedImages,
  };
  return { result, doomed };
}

export async function productionImages(
  ledger: Ledger,
  config: ChangeproofConfig,
  now: Date,
): Promise<ProtectedImage[]> {
  const production = new Set(config.environments.filter((e) => e.production).map((e) => e.name));
  const since = now.getTime() - durationMs(config.evidenceRetention);
  const images: ProtectedImage[] = [];
  for (const entry of await ledger.list({ kind: 'sync.completed' })) {
    const sync = evidenceOf(entry, 'sync.completed');
    if (!sync || !production.has(sync.env) || Date.parse(entry.time) < since) continue;
    for (const image of sync.images) {
      images.push({ digest: image.digest, deployment: sync.deployment, at: entry.time });
    }
  }
  return images;
}

/**
 * `registry prune` on the embedded registry's storage: plans with {@link planPrune}, then (unless
 * a dry run) deletes the expired manifests, collects the blobs nothing references any more, and
 * records what went in the ledger.
 */
export async function pruneRegistry(options: {
  storage: RegistryStorage;
  ledger: Ledger;
  config: ChangeproofConfig;
  policy: PrunePolicy;
  dryRun: boolean;
  now?: Date;
}): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const protectedImages = await productionImages(options.ledger, options.config, now);
  const decisions = planPrune(
    options.storage.listManifests(),
    protectedImages,
    options.policy,
    now,
  );
  const { result, doomed } = plannedResult(decisions, protectedImages.length, options.dryRun);
  if (options.dryRun) return result;

  for (const decision of doomed)
    options.storage.deleteManifest(decision.repository, decision.digest);
  // Blobs of a push in progress are young; the grace period keeps them out of the collection.
  const collected = options.storage.collectGarbage({
    minimumAgeMs: options.policy.untaggedGraceMs,
    now,
  });
  result.freedBytes = collected.freedBytes;
  await options.ledger.append({
    kind: 'registry.pruned',
    subject: 'registry:embedded',
    actor: 'system:registry-prune',
    payload: {
      deleted: doomed.map((d) => ({
        repository: d.repository,
        digest: d.digest,
        reason: d.reason,
      })),
      kept: result.kept,
      protectedImages: protectedImages.map((image) => image.digest),
      freedBytes: collected.freedBytes,
      deletedBlobs: collected.deletedBlobs.length,
    },
  });
  return result;
}
