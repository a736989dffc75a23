import type { ChangeproofConfig } from '../config/schema.ts';
import type { EvidenceIndex, Evidence } from './evidence-index.ts';
import type { Approval, ApprovalAnswer } from './types.ts';

/** The change-management evidence behind one deployment, found by following payload links. */
export interface ApprovalLinks {
  merged?: Evidence<'proposal.merged'>;
  proposalId?: string;
  changeId?: string;
}

/** Follows config commit → merge → proposal, or the change record → proposal. */
export function linkApproval(
  index: EvidenceIndex,
  configCommit: string | undefined,
  change: string | undefined,
): ApprovalLinks {
  let merged = configCommit ? index.last('proposal.merged', 'commit', configCommit) : undefined;
  let proposalId = merged?.payload.proposal;
  if (!merged && change) {
    proposalId = index.first('change.opened', 'change', change)?.payload.proposal;
    merged = proposalId ? index.last('proposal.merged', 'proposal', proposalId) : undefined;
  }
  const changeId = change ?? merged?.payload.change ?? changeForProposal(index, proposalId);
  return { merged, proposalId, changeId };
}

function changeForProposal(index: EvidenceIndex, proposalId: string | undefined) {
  return proposalId
    ? index.last('change.opened', 'proposal', proposalId)?.payload.change
    : undefined;
}

/** Who approved: reviews and change approvals with identity, role and time, and the SoD verdict. */
export function answerApproval(
  index: EvidenceIndex,
  config: ChangeproofConfig,
  links: ApprovalLinks,
): ApprovalAnswer {
  const teams = new Map(config.identities.map((identity) => [identity.name, identity.team]));
  const answer: ApprovalAnswer = {
    change: links.changeId ? describeChange(index, links.changeId) : undefined,
    proposal: links.proposalId ? describeProposal(index, links) : undefined,
    breakGlass: breakGlassOf(index, links.proposalId),
    approvals: [],
    separationOfDuties: { verdict: 'no-evidence', reasons: [] },
  };
  const approvals: Approval[] = [
    ...reviewApprovals(index, links),
    ...(links.changeId ? changeApprovals(index, links.changeId) : []),
  ];
  const glass = answer.breakGlass;
  if (glass?.selfApproved && !approvals.some((a) => a.identity === glass.actor)) {
    // Broke glass on their own change with the change system down: the override is the approval,
    // in the roles the entry recorded (none, for entries written before roles were).
    const at = index.entry(glass.seq)?.time ?? '';
    approvals.push({
      identity: glass.actor,
      roles: [...(glass.roles ?? [])],
      at,
      source: 'break-glass',
      seq: glass.seq,
    });
  }
  // The approvals were just built: their team is set in place rather than copied in.
  for (const approval of approvals) approval.team = teams.get(approval.identity);
  answer.approvals = approvals;
  answer.separationOfDuties = separationOfDuties(answer);
  return answer;
}

function describeChange(index: EvidenceIndex, id: string): ApprovalAnswer['change'] {
  const opened = index.first('change.opened', 'change', id);
  if (!opened) return undefined;
  const emergency = index.last('change.emergency', 'change', id);
  const review = index.last('change.retro-reviewed', 'change', id);
  return {
    id,
    type: opened.payload.type,
    retroactive: opened.payload.retroactive === true,
    openedAt: opened.time,
    states: index
      .linked('change.state', 'change', id)
      .map((e) => ({ to: e.payload.to, at: e.time, seq: e.seq })),
    emergency: emergency && {
      declaredBy: emergency.payload.declaredBy,
      reason: emergency.payload.reason,
      reviewDueBy: emergency.payload.reviewDueBy,
      seq: emergency.seq,
    },
    retroReview: review && {
      reviewer: review.payload.reviewer,
      outcome: review.payload.outcome,
      at: review.time,
      seq: review.seq,
    },
    seq: opened.seq,
  };
}

function describeProposal(index: EvidenceIndex, links: ApprovalLinks): ApprovalAnswer['proposal'] {
  const id = links.proposalId!;
  const opened = index.first('proposal.opened', 'proposal', id);
  const merged = links.merged;
  const pushes = index.linked('proposal.pushed', 'proposal', id);
  const headCommit = merged?.payload.headCommit ?? pushes.at(-1)?.payload.headCommit;
  const gates = index
    .linked('gate.verdict', 'proposal', id)
    .filter((g) => headCommit === undefined || g.payload.commit === headCommit);
  const gate = gates.at(-1);
  return {
    id,
    author: merged?.payload.author ?? opened?.payload.author ?? 'unknown',
    lastPusher:
      merged?.payload.lastPusher ??
      pushes.at(-1)?.payload.pusher ??
      opened?.payload.author ??
      'unknown',
    mergedBy: merged?.payload.mergedBy ?? 'not merged',
    mergedAt: merged?.time ?? '',
    path: merged?.payload.path ?? 'normal',
    headCommit: headCommit ?? opened?.payload.headCommit ?? '',
    mergeCommit: merged?.payload.mergeCommit ?? '',
    routine: opened?.payload.routine,
    changedPaths: opened?.payload.changedPaths,
    commitSignedBy: merged?.payload.commitSignedBy,
    gate: gate && {
      state: gate.payload.state,
      rule: gate.payload.rule,
      commit: gate.payload.commit,
      seq: gate.seq,
    },
    refusals: index.linked('proposal.refused', 'proposal', id).map((e) => ({
      code: e.payload.code,
      actor: e.payload.actor,
      reason: e.payload.reason,
      seq: e.seq,
    })),
    seq: merged?.seq ?? opened?.seq ?? 0,
  };
}

function breakGlassOf(
  index: EvidenceIndex,
  proposalId: string | undefined,
): ApprovalAnswer['breakGlass'] {
  const entry = proposalId ? index.last('change.break-glass', 'proposal', proposalId) : undefined;
  return entry && { ...entry.payload, seq: entry.seq };
}

/**
 * The approvals snapshotted at merge (what branch protection counted), each tied to the review
 * entry that gave it; without a merge, the approving reviews as recorded.
 */
function reviewApprovals(index: EvidenceIndex, links: ApprovalLinks): Omit<Approval, 'team'>[] {
  if (!links.proposalId) return [];
  const reviews = index.linked('proposal.reviewed', 'proposal', links.proposalId);
  if (links.merged) {
    return links.merged.payload.approvals.map((approval) => {
      const review = reviews.find(
        (r) => r.payload.reviewer === approval.reviewer && r.payload.commit === approval.commit,
      );
      return {
        identity: approval.reviewer,
        roles: approval.roles,
        at: approval.at,
        source: 'review' as const,
        commit: approval.commit,
        seq: review?.seq ?? links.merged!.seq,
      };
    });
  }
  return reviews
    .filter((r) => r.payload.state === 'approved')
    .map((r) => ({
      identity: r.payload.reviewer,
      roles: r.payload.roles,
      at: r.time,
      source: 'review' as const,
      commit: r.payload.commit,
      seq: r.seq,
    }));
}

function changeApprovals(index: EvidenceIndex, changeId: string): Omit<Approval, 'team'>[] {
  return index.linked('change.approved', 'change', changeId).map((e) => ({
    identity: e.payload.approver,
    roles: [e.payload.role],
    at: e.payload.at,
    source: 'change' as const,
    seq: e.seq,
  }));
}

/** No approver may be the proposal's author or its last pusher. */
function separationOfDuties(answer: ApprovalAnswer): ApprovalAnswer['separationOfDuties'] {
  const proposal = answer.proposal;
  if (!proposal)
    return { verdict: 'no-evidence', reasons: ['no proposal links to this deployment'] };
  if (answer.approvals.length === 0)
    return { verdict: 'no-evidence', reasons: ['no approval recorded'] };
  const reasons: string[] = [];
  for (const approval of answer.approvals) {
    if (approval.identity === proposal.author) {
      reasons.push(
        `${approval.identity} approved (${approval.source}, entry ${approval.seq}) their own proposal`,
      );
    } else if (approval.identity === proposal.lastPusher) {
      reasons.push(
        `${approval.identity} approved (${approval.source}, entry ${approval.seq}) after pushing to it last`,
      );
    }
  }
  return { verdict: reasons.length > 0 ? 'fail' : 'pass', reasons };
}
