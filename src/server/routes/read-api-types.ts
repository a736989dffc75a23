/**
 * The shapes the read API returns. The dashboard imports these types, so the page and the server
 * agree by type. Every `seq` is the ledger sequence number a fact was read from.
 */

/** One page of a long list; `next` is the cursor for the following page. */
export interface Page<T> {
  items: T[];
  total: number;
  next?: string;
}

/** The four links of a deployment's evidence chain; `missing` names the links that are absent. */
export interface EvidenceBadge {
  approved: boolean;
  signed: boolean;
  scanned: boolean;
  verified: boolean;
  missing: string[];
}

export type SyncState = 'synced' | 'drifted' | 'failed' | 'refused' | 'never';

/** One application: a service in an environment, as the CD plane last left it. */
export interface MatrixCell {
  env: string;
  service: string;
  app: string;
  sync: SyncState;
  health?: string;
  image?: string;
  digest?: string;
  configCommit?: string;
  change?: string;
  deployment?: string;
  deployedAt?: string;
  reason?: string;
  evidence: EvidenceBadge;
}

export interface Matrix {
  environments: string[];
  services: string[];
  cells: MatrixCell[];
  headSeq: number;
}

export interface DeploymentSummary {
  id: string;
  seq: number;
  at: string;
  outcome: 'completed' | 'failed' | 'refused';
  configCommit: string;
  change?: string;
  images: { name: string; digest: string; signedBy?: string }[];
  desiredDigest?: string;
  liveDigest?: string;
  initiator?: string;
  reason?: string;
}

export interface IncidentView {
  id: string;
  seq: number;
  openedAt: string;
  cause: string;
  resolvedAt?: string;
  resolution?: string;
}

export interface DriftView {
  seq: number;
  at: string;
  app: string;
  object: string;
  fields: string[];
  diff: string;
  fieldManager: string;
  action: string;
  revertedAt?: string;
  incident?: IncidentView;
}

export interface AppDetail {
  cell: MatrixCell;
  /** What Git says and what the cluster had at the last sync and the last verification. */
  desired: {
    configCommit?: string;
    desiredDigest?: string;
    liveDigestAtSync?: string;
    lastVerification?: { seq: number; at: string; equal: boolean; liveDigest: string };
  };
  drifts: DriftView[];
  history: Page<DeploymentSummary>;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  kind: string;
  app?: string;
  title: string;
  detail: string;
}

export interface ReviewView {
  reviewer: string;
  state: string;
  commit: string;
  at: string;
}

export interface ProposalView {
  id: string;
  title: string;
  author: string;
  lastPusher: string;
  state: string;
  baseCommit: string;
  headCommit: string;
  createdAt: string;
  service?: string;
  env?: string;
  routine?: boolean;
  changedPaths: string[];
  evidence: { artifact?: string; sbomDigest?: string; signer?: string; scanVerdict?: string };
  reviews: ReviewView[];
  statuses: { context: string; state: string; description: string }[];
  /** approved when a current approval covers the head commit. */
  approval: 'approved' | 'changes_requested' | 'pending';
}

export interface DiffPage {
  proposal: string;
  page: number;
  pages: number;
  totalLines: number;
  lines: string[];
}

/** A page of an application's desired state against its live objects, field by field. */
export interface LiveDiffPage {
  app: string;
  /** The config commit the desired state was rendered from: the last sync's, else main's head. */
  commit: string;
  page: number;
  pages: number;
  totalLines: number;
  lines: string[];
}

/** The auditor's three questions about one deployment. */
export interface DeploymentEvidence {
  deployment: DeploymentSummary & { app: string; env: string; service: string };
  whoApproved: {
    proposal?: { id: string; author: string; lastPusher: string; mergedBy: string; path: string };
    approvals: { identity: string; roles: string[]; at: string; source: string; seq: number }[];
    change?: { id: string; type: string; states: { to: string; seq: number }[] };
    separationOfDuties: { verdict: 'pass' | 'fail' | 'no-evidence'; reasons: string[] };
  };
  whatDeployed: {
    images: {
      name: string;
      digest: string;
      signedBy?: string;
      sourceRepo?: string;
      sourceCommit?: string;
      sbomDigest?: string;
      scanVerdict?: string;
      signatureTag?: string;
      provenanceBuilder?: string;
      seq?: number;
    }[];
  };
  doesItMatch: {
    approvedDigest?: string;
    appliedDigest?: string;
    liveDigestAtSync?: string;
    verdict: 'consistent' | 'mismatch' | 'no-evidence';
    verifications: { seq: number; at: string; equal: boolean }[];
    drifts: DriftView[];
  };
  evidence: EvidenceBadge;
  entries: number[];
}

export interface Dora {
  envs: string[];
  from: string;
  to: string;
  days: { date: string; deployments: number; leadTimeHours?: number; failures: number }[];
  deployments: number;
  medianLeadTimeHours?: number;
  changeFailureRate?: number;
  meanTimeToRestoreHours?: number;
}

/** Who is asking, and which write actions the server offers them. */
export interface Me {
  name: string;
  roles: string[];
  actions: Record<'review' | 'rollback', { method: string; url: string } | { disabled: string }>;
}
