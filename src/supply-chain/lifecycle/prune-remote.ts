import type { ChangeproofConfig } from '../../config/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { RegistryClient } from '../oci/client.ts';
import { planPrune, type PruneDecision, type PrunePolicy } from './prune-policy.ts';
import { plannedResult, productionImages, type PruneResult } from './prune.ts';
import { deliveredImages, listRemoteManifests } from './remote-inventory.ts';

/**
 * `registry prune` through the OCI distribution API, for a connected registry (or the embedded
 * one while `changeproof up` serves it): lists each repository (the catalog, else the config's
 * services), plans with {@link planPrune} against the production deployments inside the
 * evidence retention, and (unless a dry run) deletes the expired manifests by digest, with the
 * signatures, attestations and referrer indexes that follow them. Blob space is the registry's
 * own garbage collection to reclaim, so `freedBytes` stays 0. What was deleted goes in the
 * ledger, also when the registry refuses part way.
 */
export async function pruneRemoteRegistry(options: {
  client: RegistryClient;
  ledger: Ledger;
  config: ChangeproofConfig;
  policy: PrunePolicy;
  dryRun: boolean;
  now?: Date;
}): Promise<PruneResult> {
  const { client, ledger, config } = options;
  const now = options.now ?? new Date();
  const host = client.options.registry;
  const protectedImages = await productionImages(ledger, config, now);
  const pushed = await deliveredImages(ledger, host);
  const repositories = (await client.listRepositories()) ?? Object.keys(config.services);
  const manifests = [];
  for (const repository of repositories.sort()) {
    const known = pushed.get(repository) ?? new Map<string, string>();
    manifests.push(...(await listRemoteManifests(client, repository, known, now)));
  }
  const decisions = planPrune(manifests, protectedImages, options.policy, now);
  const { result, doomed } = plannedResult(decisions, protectedImages.length, options.dryRun);
  if (options.dryRun) return result;

  const deleted: PruneDecision[] = [];
  const record = (failure?: string) =>
    ledger.append({
      kind: 'registry.pruned',
      subject: `registry:${host}`,
      actor: 'system:registry-prune',
      payload: {
        deleted: deleted.map((d) => ({
          repository: d.repository,
          digest: d.digest,
          reason: d.reason,
        })),
        kept: result.kept,
        protectedImages: protectedImages.map((image) => image.digest),
        ...(failure ? { failure } : {}),
      },
    });
  try {
    for (const decision of doomed) {
      await client.deleteManifest(decision.repository, decision.digest);
      deleted.push(decision);
    }
  } catch (error) {
    // Nothing deleted means nothing to record: the refusal itself is the answer.
    if (deleted.length > 0) await record(error instanceof Error ? error.message : String(error));
    throw error;
  }
  await record();
  return result;
}
