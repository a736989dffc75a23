import type { ChangeEvidence } from '../../domain/change-system.ts';
import type { CommitStatus, Proposal, Review } from '../../domain/forge.ts';
import type { ForgeProposalRow, ForgeReviewRow, ForgeStatusRow } from '../../store/schema.ts';

/** Conversions between the forge's tables and the port's types. */
export function rowToProposal(row: ForgeProposalRow): Proposal {
  const proposal: Proposal = {
    id: row.id,
    title: row.title,
    description: row.description,
    author: row.author,
    branch: row.branch,
    baseBranch: row.base_branch,
    baseCommit: row.base_commit,
    headCommit: row.head_commit,
    lastPusher: row.last_pusher,
    state: row.state as Proposal['state'],
    createdAt: row.created_at,
    routine: row.routine === 1,
    changedPaths: JSON.parse(row.changed_paths) as string[],
    evidence: JSON.parse(row.evidence) as ChangeEvidence,
  };
  if (row.merge_commit) proposal.mergeCommit = row.merge_commit;
  if (row.merged_by) proposal.mergedBy = row.merged_by;
  if (row.merged_at) proposal.mergedAt = row.merged_at;
  if (row.service) proposal.service = row.service;
  if (row.env) proposal.env = row.env;
  return proposal;
}

export function rowToReview(row: ForgeReviewRow): Review {
  const review: Review = {
    proposal: row.proposal,
    reviewer: row.reviewer,
    state: row.state as Review['state'],
    commit: row.commit_sha,
    submittedAt: row.submitted_at,
  };
  if (row.body) review.body = row.body;
  return review;
}

export function rowToStatus(row: ForgeStatusRow): CommitStatus {
  const status: CommitStatus = {
    commit: row.commit_sha,
    context: row.context,
    state: row.state as CommitStatus['state'],
    description: row.description,
    updatedAt: row.updated_at,
  };
  if (row.target_url) status.targetUrl = row.target_url;
  return status;
}
