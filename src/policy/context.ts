import type { AuditedDeployment } from '../audit/types.ts';
import type { EvidenceIndex } from '../audit/evidence-index.ts';
import type { AuditRange } from '../audit/range.ts';
import type { ChangeproofConfig } from '../config/schema.ts';
import type { LedgerVerification } from '../ledger/verify.ts';
import type { ControlOutcome } from './catalogue.ts';

/** What every control is evaluated with: the audited population and the evidence behind it. */
export interface ControlContext {
  deployments: AuditedDeployment[];
  index: EvidenceIndex;
  config: ChangeproofConfig;
  range: AuditRange;
  /** Key ids of the pipeline signing key(s) images must be signed with. */
  pipelineKeyIds: string[];
  /** The ledger's own verification, for CP-14. */
  ledger: LedgerVerification;
  /** How long a drift may stay unanswered (CP-12); 24 h by default. */
  driftResponseWindowMs: number;
  now: Date;
}

export function outcome(
  control: string,
  subject: string,
  status: ControlOutcome['status'],
  reason: string,
  evidence: number[],
): ControlOutcome {
  return {
    control,
    subject,
    status,
    reason,
    evidence: [...new Set(evidence)].sort((a, b) => a - b),
  };
}

export function deploymentSubject(d: AuditedDeployment): string {
  return `deployment:${d.id}`;
}

export function isProduction(config: ChangeproofConfig, env: string): boolean {
  return config.environments.some((e) => e.name === env && e.production);
}
