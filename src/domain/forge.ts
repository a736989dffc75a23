import type { ChangeEvidence } from './change-system.ts';

/**
 * The forge port: where the config repo lives and proposals against it are reviewed and merged.
 * Local mode: the embedded forge (a bare repo plus proposals kept by changeproof). Connected
 * mode: GitHub pull requests. Identities are changeproof user names.
 */
export interface Proposal {
  id: string;
  title: string;
  description: string;
  author: string;
  branch: string;
  baseBranch: string;
  /** The commit main was at when the proposal was opened. */
  baseCommit: string;
  headCommit: string;
  lastPusher: string;
  state: 'open' | 'merged' | 'closed';
  mergeCommit?: string;
  createdAt: string;
  /** Which service and environment the change targets, from the paths it touches. */
  service?: string;
  env?: string;
  /** True when the diff changes image references in an overlay and nothing else. */
  routine?: boolean;
  changedPaths?: string[];
  /** What the CI plane passed about the artifact (digest, SBOM, signer, scan verdict). */
  evidence?: ChangeEvidence;
  mergedBy?: string;
  mergedAt?: string;
}

export interface Review {
  proposal: string;
  reviewer: string;
  state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
  commit: string;
  body?: string;
  submittedAt: string;
}

export interface CommitStatus {
  commit: string;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  targetUrl?: string;
  updatedAt: string;
}

export interface OpenProposalRequest {
  title: string;
  description: string;
  author: string;
  /** A branch already pushed to the forge's repository. */
  branch: string;
  baseBranch?: string;
  /** The artifact's evidence, copied onto the change record the proposal opens. */
  evidence?: ChangeEvidence;
}

export interface Forge {
  /** Where a pipeline clones from and pushes branches to (a path or URL git understands). */
  readonly repositoryUrl: string;
  openProposal(request: OpenProposalRequest): Promise<Proposal>;
  getProposal(id: string): Promise<Proposal>;
  listProposals(filter?: { state?: Proposal['state'] }): Promise<Proposal[]>;
  /** Records that `pusher` pushed new commits to the proposal's branch (dismisses approvals). */
  recordPush(id: string, pusher: string): Promise<Proposal>;
  review(id: string, review: Omit<Review, 'proposal' | 'submittedAt'>): Promise<Review>;
  listReviews(id: string): Promise<Review[]>;
  setStatus(status: Omit<CommitStatus, 'updatedAt'>): Promise<CommitStatus>;
  listStatuses(commit: string): Promise<CommitStatus[]>;
  /** Merges under branch protection; refuses with a ChangeError naming the rule otherwise. */
  merge(
    id: string,
    actor: string,
    options?: { emergency?: boolean; breakGlass?: boolean; selfApproved?: boolean },
  ): Promise<Proposal>;
}
