import type { Proposal, Review } from '../../domain/forge.ts';
import { latestByReviewer } from '../../embedded/forge/protection.ts';

/** The approvals proven at merge time, frozen for the ledger. */
export interface ApprovalSnapshot {
  head: string;
  /** Approvals of the merged head by someone other than the author and the last pusher. */
  approvals: { reviewer: string; commit: string; at: string }[];
  /** Approvals of the head that do not count because of who gave them. */
  violations: {
    reviewer: string;
    commit: string;
    at: string;
    code: 'SELF_APPROVAL' | 'LAST_PUSHER_APPROVAL';
  }[];
  /** Approvals of an older commit (stale after a push); kept so the audit sees they were ignored. */
  stale: { reviewer: string; commit: string }[];
}

/**
 * Snapshots at merge the APPROVED reviews whose commit is the merged head. GitHub reviews can be
 * dismissed later and lose their `commit_id`, so this snapshot, written to the ledger when the
 * merge happens, is what proves the approval afterwards.
 */
export function snapshotApprovals(
  proposal: Pick<Proposal, 'headCommit' | 'author' | 'lastPusher'>,
  reviews: Review[],
): ApprovalSnapshot {
  const snapshot: ApprovalSnapshot = {
    head: proposal.headCommit,
    approvals: [],
    violations: [],
    stale: [],
  };
  for (const review of latestByReviewer(reviews)) {
    if (review.state !== 'approved') continue;
    if (review.commit !== proposal.headCommit) {
      snapshot.stale.push({ reviewer: review.reviewer, commit: review.commit });
    } else if (review.reviewer === proposal.author) {
      snapshot.violations.push({ ...given(review), code: 'SELF_APPROVAL' });
    } else if (review.reviewer === proposal.lastPusher) {
      snapshot.violations.push({ ...given(review), code: 'LAST_PUSHER_APPROVAL' });
    } else {
      snapshot.approvals.push({
        reviewer: review.reviewer,
        commit: review.commit,
        at: review.submittedAt,
      });
    }
  }
  return snapshot;
}

function given(review: Review): { reviewer: string; commit: string; at: string } {
  return { reviewer: review.reviewer, commit: review.commit, at: review.submittedAt };
}
