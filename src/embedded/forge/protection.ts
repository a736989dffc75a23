import type { CommitStatus, Proposal, Review } from '../../domain/forge.ts';

/** The status contexts every protected merge needs, set by changeproof itself. */
export const CHANGE_APPROVED_CONTEXT = 'changeproof/change-approved';
export const RENDER_CONTEXT = 'changeproof/render';

/**
 * Branch protection for one proposal, in GitHub's terms: approvals from reviewers who are neither
 * the author nor the last pusher, stale approvals dismissed on push, required status contexts on
 * the head commit, and signed commits.
 */
export interface BranchProtection {
  requiredApprovals: number;
  requiredContexts: string[];
  requireSignedCommits: boolean;
}

export interface ProtectionViolation {
  code: 'APPROVALS_REQUIRED' | 'CHECKS_REQUIRED' | 'CHANGES_REQUESTED';
  message: string;
}

/**
 * The approvals that count: the latest review of each reviewer, approving the head commit, by
 * someone who is neither the author nor the last pusher.
 */
export function countingApprovals(proposal: Proposal, reviews: Review[]): Review[] {
  return latestByReviewer(reviews).filter(
    (review) =>
      review.state === 'approved' &&
      review.commit === proposal.headCommit &&
      review.reviewer !== proposal.author &&
      review.reviewer !== proposal.lastPusher,
  );
}

/** Each reviewer's latest review that is not a comment (a comment leaves a verdict standing). */
export function latestByReviewer(reviews: Review[]): Review[] {
  const latest = new Map<string, Review>();
  for (const review of reviews) {
    if (review.state === 'commented') continue;
    const seen = latest.get(review.reviewer);
    if (!seen || seen.submittedAt <= review.submittedAt) latest.set(review.reviewer, review);
  }
  return [...latest.values()];
}

/** Everything that stops a merge under `protection`, in the order a person should fix it. */
export function protectionViolations(
  proposal: Proposal,
  reviews: Review[],
  headStatuses: CommitStatus[],
  protection: BranchProtection,
): ProtectionViolation[] {
  const violations: ProtectionViolation[] = [];
  const blocking = latestByReviewer(reviews).filter(
    (review) => review.state === 'changes_requested' && review.commit === proposal.headCommit,
  );
  if (blocking.length > 0) {
    violations.push({
      code: 'CHANGES_REQUESTED',
      message: `changes requested by ${blocking.map((r) => r.reviewer).join(', ')}; push a fix`,
    });
  }
  const approvals = countingApprovals(proposal, reviews).length;
  if (approvals < protection.requiredApprovals) {
    violations.push({
      code: 'APPROVALS_REQUIRED',
      message: `${approvals} of ${protection.requiredApprovals} required approvals on ${short(proposal.headCommit)} from reviewers other than the author and last pusher`,
    });
  }
  for (const context of protection.requiredContexts) {
    const status = headStatuses.find((s) => s.context === context);
    if (status?.state !== 'success') {
      violations.push({
        code: 'CHECKS_REQUIRED',
        message: `required check ${context} is ${status?.state ?? 'missing'} on ${short(proposal.headCommit)}${status?.description ? ` (${status.description})` : ''}`,
      });
    }
  }
  return violations;
}

export function short(commit: string): string {
  return commit.slice(0, 12);
}
