import type { ChangeproofConfig } from '../config/schema.ts';
import { keyIdOf, loadPublicKeyPem } from '../embedded/secret-broker/keys.ts';
import type { LedgerVerification } from '../ledger/verify.ts';
import { evaluateControls, type ControlReport } from '../policy/evaluate.ts';
import type { Store } from '../store/open.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { auditDeployments, type AuditScope } from './audit.ts';
import { loadAuditedEntries } from './evidence-load.ts';
import { EvidenceIndex } from './evidence-index.ts';
import type { AuditedDeployment } from './types.ts';

/** Everything an audit reads: the ledger's store, the workspace's config and keys, and a clock. */
export interface AuditInputs {
  store: Store;
  config: ChangeproofConfig;
  controlPlanePublicKey: string;
  /** Key ids images must be signed with (CP-06). */
  pipelineKeyIds: string[];
  now?: Date;
  driftResponseWindowMs?: number;
}

const DAY_MS = 86_400_000;

/** The audit inputs of an open workspace. */
export function auditInputsOf(ws: WorkspaceContext): AuditInputs {
  return {
    store: ws.store,
    config: ws.config,
    controlPlanePublicKey: ws.controlPlanePublicKey,
    pipelineKeyIds: [keyIdOf(loadPublicKeyPem(ws.paths.keysDir, 'pipeline'))],
  };
}

/** Loads the evidence once, verifying the chain as it reads; everything is answered from it. */
export async function loadEvidence(
  inputs: AuditInputs,
): Promise<{ index: EvidenceIndex; ledger: LedgerVerification }> {
  const { entries, verification } = await loadAuditedEntries(
    inputs.store,
    inputs.controlPlanePublicKey,
  );
  return { index: new EvidenceIndex(entries), ledger: verification };
}

/** The deployments in scope, answered. */
export async function runDeploymentAudit(
  inputs: AuditInputs,
  scope: AuditScope,
): Promise<{ index: EvidenceIndex; deployments: AuditedDeployment[]; ledger: LedgerVerification }> {
  const { index, ledger } = await loadEvidence(inputs);
  return { index, ledger, deployments: auditDeployments(index, inputs.config, scope) };
}

/** The deployments in scope and every control evaluated over them. */
export async function runControlAudit(
  inputs: AuditInputs,
  scope: AuditScope,
): Promise<{
  index: EvidenceIndex;
  deployments: AuditedDeployment[];
  report: ControlReport;
  ledger: LedgerVerification;
}> {
  const { index, deployments, ledger } = await runDeploymentAudit(inputs, scope);
  const report = evaluateControls({
    deployments,
    index,
    config: inputs.config,
    range: scope.range,
    pipelineKeyIds: inputs.pipelineKeyIds,
    ledger,
    driftResponseWindowMs: inputs.driftResponseWindowMs ?? DAY_MS,
    now: inputs.now ?? new Date(),
  });
  return { index, deployments, report, ledger };
}
