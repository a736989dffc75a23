import type { JsonValue } from '../ledger/canonical.ts';
import type { Role } from '../config/schema.ts';
import { isClosed, type ChangeRecord } from '../domain/change-system.ts';
import type { CommitStatus, Proposal, Review } from '../domain/forge.ts';
import {
  CHANGE_APPROVED_CONTEXT,
  RENDER_CONTEXT,
  countingApprovals,
  latestByReviewer,
} from '../embedded/forge/protection.ts';
import type { EffectiveGovernance } from './governance.ts';

export { CHANGE_APPROVED_CONTEXT };

/**
 * A break-glass declared while the change system was unreachable, kept until the record is owed
 * no more. `selfApproval` is set when the declarer wrote or last pushed the change: the head it
 * was declared on, the one commit the override lets through.
 */
export interface BreakGlassDeclaration {
  actor: string;
  reason: string;
  selfApproval?: { commit: string };
}

/** Everything the gate decides from; the verdict is a function of these alone. */
export interface GateInput {
  proposal: Proposal;
  reviews: Review[];
  /** Statuses of the proposal's head commit. */
  statuses: CommitStatus[];
  change?: ChangeRecord;
  /** Set when an on-call engineer broke glass because the change system was unreachable. */
  breakGlass?: BreakGlassDeclaration;
  /** Roles by user name, from changeproof.yaml. */
  roles: ReadonlyMap<string, readonly Role[]>;
  governance: EffectiveGovernance;
}

export interface GateVerdict {
  state: 'success' | 'failure' | 'pending';
  /** The rule that decided, a stable id for the evidence. */
  rule: string;
  description: string;
  /** Approvals that counted toward the verdict. */
  approvers: { reviewer: string; roles: string[]; commit: string }[];
}

/**
 * Decides the `changeproof/change-approved` status of a proposal's head commit. Pure: no I/O, the
 * same inputs give the same verdict, so each verdict can be replayed from its ledger entry.
 */
export function decideGate(input: GateInput): GateVerdict {
  const { proposal, governance } = input;
  const rolesOf = (name: string) => input.roles.get(name) ?? [];
  const heldBy = (review: Review, ...roles: Role[]) =>
    rolesOf(review.reviewer).some((role) => roles.includes(role));
  const independent = countingApprovals(proposal, input.reviews);
  const verdict = (
    state: GateVerdict['state'],
    rule: string,
    description: string,
    counted = independent,
  ) => ({
    state,
    rule,
    description,
    approvers: counted.map((r) => ({
      reviewer: r.reviewer,
      roles: [...rolesOf(r.reviewer)],
      commit: r.commit,
    })),
  });

  const blocking = latestByReviewer(input.reviews).filter(
    (r) => r.state === 'changes_requested' && r.commit === proposal.headCommit,
  );
  if (blocking.length > 0) {
    return verdict('failure', 'changes-requested', `changes requested by ${names(blocking)}`, []);
  }

  const glass = selfApprovedBreakGlass(input);
  if (glass) {
    return verdict(
      'success',
      'break-glass-self-approval',
      `break-glass by ${glass.actor} on their own change: no independent approval; review owed`,
      [],
    );
  }

  const oncall = independent.filter((r) => heldBy(r, 'oncall'));
  if (!input.change) {
    if (input.breakGlass) {
      return oncall.length > 0
        ? verdict(
            'success',
            'break-glass',
            `break-glass by ${input.breakGlass.actor}: change record owed`,
            oncall,
          )
        : verdict(
            'pending',
            'break-glass',
            'break-glass needs an on-call approval of the head',
            [],
          );
    }
    return verdict('pending', 'change-record-missing', 'waiting for the change record to open', []);
  }
  const change = input.change;
  if (isClosed(change)) {
    return verdict('failure', 'change-closed', `change ${change.number} is ${change.state}`, []);
  }
  if (change.type === 'emergency') {
    return oncall.length > 0
      ? verdict(
          'success',
          'emergency-oncall',
          `emergency ${change.number} approved by on-call ${names(oncall)}`,
          oncall,
        )
      : verdict(
          'pending',
          'emergency-oncall',
          'an emergency needs one on-call approval of the head',
          [],
        );
  }

  const eligibleRoles: Role[] = governance.production
    ? ['approver', 'cab']
    : ['developer', 'approver', 'cab', 'oncall'];
  const eligible = independent.filter((r) => heldBy(r, ...eligibleRoles));
  const required = proposal.routine
    ? governance.approvals
    : Math.max(governance.approvals, governance.nonRoutineApprovals);

  if (required === 0) {
    const render = input.statuses.find((s) => s.context === RENDER_CONTEXT);
    if (render?.state === 'success') {
      return verdict(
        'success',
        'auto-approve-on-green',
        'checks green; no approval required',
        eligible,
      );
    }
    if (render?.state === 'failure' || render?.state === 'error') {
      return verdict('failure', 'auto-approve-on-green', `${RENDER_CONTEXT} failed`, []);
    }
    return verdict('pending', 'auto-approve-on-green', `waiting for ${RENDER_CONTEXT}`, []);
  }
  if (eligible.length < required) {
    const kind = proposal.routine ? 'routine' : 'non-routine';
    return verdict(
      'pending',
      'approvals-required',
      `${eligible.length} of ${required} approvals for a ${kind} change by ${eligibleRoles.join('/')}, not the author or last pusher`,
      eligible,
    );
  }
  if (
    governance.cabRequired &&
    change.type === 'normal' &&
    !eligible.some((r) => heldBy(r, 'cab'))
  ) {
    return verdict(
      'pending',
      'cab-required',
      `a normal change in ${governance.env} needs a CAB approval`,
      eligible,
    );
  }
  if (governance.requireWindow && change.type === 'normal' && !change.plannedStart) {
    return verdict(
      'pending',
      'window-required',
      `${governance.env} needs a planned window`,
      eligible,
    );
  }
  const rule = change.type === 'standard' ? 'standard-preapproved' : 'approved';
  return verdict('success', rule, `approved by ${names(eligible)}`, eligible);
}

/**
 * A sole responder's break-glass on their own change, from the owed record while the change
 * system is down or from the open emergency change record. It holds for the head it was declared
 * on only: a later push needs an independent on-call approval like any other emergency.
 */
function selfApprovedBreakGlass(input: GateInput): { actor: string } | undefined {
  const { proposal, change } = input;
  const fromRecord =
    change?.type === 'emergency' && change.emergency?.selfApproval && !isClosed(change)
      ? { actor: change.emergency.declaredBy, commit: change.emergency.selfApproval.commit }
      : undefined;
  const pending = input.breakGlass?.selfApproval
    ? { actor: input.breakGlass.actor, commit: input.breakGlass.selfApproval.commit }
    : undefined;
  const declared = pending ?? fromRecord;
  return declared?.commit === proposal.headCommit ? { actor: declared.actor } : undefined;
}

/** The verdict's inputs as written to the ledger: who, which commit, which rule settings. */
export function gateEvidence(input: GateInput): { [key: string]: JsonValue } {
  return {
    headCommit: input.proposal.headCommit,
    author: input.proposal.author,
    lastPusher: input.proposal.lastPusher,
    routine: input.proposal.routine ?? false,
    reviews: input.reviews.map((r) => ({
      reviewer: r.reviewer,
      state: r.state,
      commit: r.commit,
      at: r.submittedAt,
    })),
    statuses: input.statuses
      .filter((s) => s.context !== CHANGE_APPROVED_CONTEXT)
      .map((s) => ({ context: s.context, state: s.state })),
    change: input.change
      ? { number: input.change.number, type: input.change.type, state: input.change.state }
      : null,
    breakGlass: input.breakGlass ? { ...input.breakGlass } : null,
    governance: {
      env: input.governance.env,
      approvals: input.governance.approvals,
      nonRoutineApprovals: input.governance.nonRoutineApprovals,
      cabRequired: input.governance.cabRequired,
      autoApproveOnGreen: input.governance.autoApproveOnGreen,
      requireWindow: input.governance.requireWindow,
      sources: input.governance.sources,
    },
  };
}

function names(reviews: Review[]): string {
  return reviews.map((r) => r.reviewer).join(', ');
}
