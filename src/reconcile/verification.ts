import type { KubeClient } from '../adapters/kubernetes/client.ts';
import { recordEvidence } from '../domain/evidence.ts';
import { objectKey, type KubeObject } from '../gitops/render.ts';
import type { JsonValue } from '../ledger/canonical.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { InTotoPayloadType, StatementTypeV1 } from '../supply-chain/attest/statement.ts';
import { signEnvelope, type DsseEnvelope } from '../supply-chain/dsse.ts';
import type { Signer } from '../supply-chain/signer.ts';
import {
  fieldManager,
  managedByLabel,
  type Application,
  type DesiredState,
} from './application.ts';
import { liveStateDigest } from './diff.ts';

/** The in-toto predicate type of changeproof's verification attestations. */
export const VerificationPredicateType = 'https://changeproof.dev/attestations/verification/v1';

export interface VerificationTarget {
  app: Application;
  desired: DesiredState;
}

/** What one verification found, and the attestation that seals it. */
export interface VerificationResult {
  app: string;
  cluster: string;
  configCommit: string;
  deployment: string;
  desiredDigest: string;
  liveDigest: string;
  equal: boolean;
  verifiedAt: string;
  envelope: DsseEnvelope;
}

export interface VerificationDeps {
  ledger: Ledger;
  client(cluster: string): KubeClient;
  /** The control-plane key; the attestation is signed with it. */
  signer: Signer;
  actor: string;
}

/**
 * Independent verification: reads the live state fresh from each cluster (one list per kind of
 * everything changeproof owns, not the drift detector's view), compares it with each
 * application's approved desired state, and seals the answer as a DSSE in-toto statement signed
 * by the control-plane key: at time T, application A's live state does (or does not) equal desired
 * digest D from commit C. Each one becomes a `verification.sealed` ledger entry.
 */
export async function verifyApplications(
  deps: VerificationDeps,
  targets: readonly VerificationTarget[],
): Promise<VerificationResult[]> {
  const live = await readOwnedObjects(deps, targets);
  const results: VerificationResult[] = [];
  for (const { app, desired } of targets) {
    const liveDigest = liveStateDigest(
      desired.objects,
      live.get(app.cluster) ?? new Map(),
      desired.settings.ignoreDifferences,
    );
    const verifiedAt = new Date().toISOString();
    const facts = {
      app: app.id,
      cluster: app.cluster,
      configCommit: desired.commit,
      deployment: desired.deployment,
      desiredDigest: desired.digest,
      liveDigest,
      equal: liveDigest === desired.digest,
      verifiedAt,
    };
    const envelope = await sealFacts(deps.signer, facts);
    results.push({ ...facts, envelope });
  }
  // Appended together so the ledger group-commits them.
  await Promise.all(
    results.map((result) =>
      recordEvidence(deps.ledger, 'verification.sealed', `app:${result.app}`, deps.actor, {
        app: result.app,
        configCommit: result.configCommit,
        desiredDigest: result.desiredDigest,
        liveDigest: result.liveDigest,
        equal: result.equal,
        attestation: result.envelope as unknown as { [key: string]: JsonValue },
      }),
    ),
  );
  return results;
}

function sealFacts(signer: Signer, facts: Omit<VerificationResult, 'envelope'>) {
  const statement = {
    _type: StatementTypeV1,
    subject: [
      { name: `app:${facts.app}`, digest: { sha256: facts.desiredDigest.replace(/^sha256:/, '') } },
    ],
    predicateType: VerificationPredicateType,
    predicate: facts,
  };
  return signEnvelope(InTotoPayloadType, Buffer.from(JSON.stringify(statement)), signer);
}

/** Every object changeproof owns, per cluster, by key: one list call per kind in use. */
async function readOwnedObjects(
  deps: VerificationDeps,
  targets: readonly VerificationTarget[],
): Promise<Map<string, Map<string, KubeObject>>> {
  const kindsByCluster = new Map<string, Map<string, [string, string]>>();
  for (const { app, desired } of targets) {
    const kinds = kindsByCluster.get(app.cluster) ?? new Map<string, [string, string]>();
    for (const object of desired.objects)
      kinds.set(`${object.apiVersion}|${object.kind}`, [object.apiVersion, object.kind]);
    kindsByCluster.set(app.cluster, kinds);
  }
  const byCluster = new Map<string, Map<string, KubeObject>>();
  for (const [cluster, kinds] of kindsByCluster) {
    const index = new Map<string, KubeObject>();
    const client = deps.client(cluster);
    const lists = await Promise.all(
      [...kinds.values()].map(([apiVersion, kind]) =>
        client.list(apiVersion, kind, { labelSelector: `${managedByLabel}=${fieldManager}` }),
      ),
    );
    for (const list of lists) for (const item of list.items) index.set(objectKey(item), item);
    byCluster.set(cluster, index);
  }
  return byCluster;
}
