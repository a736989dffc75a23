/**
 * The auditor's answer for one production deployment: who approved it, what exactly was
 * deployed, and the proof that the cluster matches what was approved. Every fact carries the
 * ledger sequence number it was read from, so a reader can check it against the ledger.
 */
export interface AuditedDeployment {
  /** `prod/checkout/42` for a sync; `cluster:prod/checkout@<seq>` for a change only the cluster saw. */
  id: string;
  /** Where the population found it: the CD plane's sync record or the cluster's change events. */
  source: 'cd-plane' | 'cluster';
  env: string;
  service: string;
  app: string;
  deployedAt: string;
  /** When the sync began: approvals must precede it. */
  syncStartedAt?: string;
  seq: number;
  configCommit?: string;
  initiator?: string;
  /** The rollback this deployment carried out, when it was one. */
  rollback?: { seq: number; toCommit: string; reason: string; proposal: string };
  approval: ApprovalAnswer;
  artifact: ArtifactAnswer;
  proof: ProofAnswer;
  /** Every ledger entry this answer was built from. */
  evidence: number[];
}

export interface Approval {
  identity: string;
  roles: string[];
  team?: string;
  at: string;
  /**
   * A review on the config-repo proposal, an approval of the change record, or an on-call
   * engineer's break-glass on their own change (no record of the approval but the override).
   */
  source: 'review' | 'change' | 'break-glass';
  /** The commit a review approved. */
  commit?: string;
  seq: number;
}

export interface ApprovalAnswer {
  change?: {
    id: string;
    type: 'standard' | 'normal' | 'emergency';
    retroactive: boolean;
    openedAt: string;
    states: { to: string; at: string; seq: number }[];
    emergency?: { declaredBy: string; reason: string; reviewDueBy: string; seq: number };
    retroReview?: { reviewer: string; outcome: string; at: string; seq: number };
    seq: number;
  };
  proposal?: {
    id: string;
    author: string;
    lastPusher: string;
    mergedBy: string;
    mergedAt: string;
    path: 'normal' | 'emergency' | 'break-glass' | 'automatic';
    headCommit: string;
    mergeCommit: string;
    routine?: boolean;
    changedPaths?: string[];
    commitSignedBy?: string;
    gate?: { state: string; rule: string; commit: string; seq: number };
    refusals: { code: string; actor: string; reason: string; seq: number }[];
    seq: number;
  };
  breakGlass?: {
    actor: string;
    /** The roles the actor held when breaking glass, as the entry recorded them. */
    roles?: string[];
    reason: string;
    system: string;
    /** The on-call engineer who broke glass wrote or last pushed the change. */
    selfApproved?: boolean;
    /** The proposal head the override was declared on. */
    headCommit?: string;
    seq: number;
  };
  approvals: Approval[];
  separationOfDuties: { verdict: 'pass' | 'fail' | 'no-evidence'; reasons: string[] };
}

export interface DeployedImage {
  name: string;
  digest: string;
  pinned: boolean;
  signedBy?: string;
  run?: string;
  sourceRepo?: string;
  sourceCommit?: string;
  sourceCommittedAt?: string;
  sbomDigest?: string;
  scanVerdict?: string;
  signatureTag?: string;
  attestationTag?: string;
  provenanceBuilder?: string;
  builtBy?: string;
  /** The `delivery.completed` entry, when the pipeline built it. */
  seq?: number;
}

export interface ArtifactAnswer {
  images: DeployedImage[];
  sourceCommits: string[];
}

export interface DriftRecord {
  seq: number;
  at: string;
  object: string;
  fields: string[];
  fieldManager: string;
  action: string;
  reverted?: { at: string; seq: number };
  incident?: {
    id: string;
    openedAt: string;
    seq: number;
    resolvedAt?: string;
    resolution?: string;
    resolvedSeq?: number;
  };
}

export interface ProofAnswer {
  /** The desired-state digest the approvals covered (rendered at the merged head). */
  approvedDigest?: string;
  /** The desired-state digest the CD plane applied. */
  appliedDigest?: string;
  /** The live-state digest the CD plane read back after applying. */
  liveDigestAtSync?: string;
  verdict: 'consistent' | 'mismatch' | 'no-evidence';
  reasons: string[];
  verifications: {
    seq: number;
    at: string;
    equal: boolean;
    desiredDigest: string;
    liveDigest: string;
  }[];
  lastVerifiedEqualAt?: string;
  drifts: DriftRecord[];
  /** Until when this deployment was the live one: the next deployment of the app, if any. */
  supersededAt?: string;
}
