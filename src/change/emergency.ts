import { durationMs } from '../config/schema.ts';
import type { ChangeRecord, EmergencyDetails } from '../domain/change-system.ts';
import { isClosed } from '../domain/change-system.ts';
import { recordEvidence } from '../domain/evidence.ts';
import type { Proposal } from '../domain/forge.ts';
import type { Actor } from '../domain/identity.ts';
import { isChangeproofError, messageOf } from '../errors.ts';
import {
  governanceOf,
  readPending,
  SYSTEM_ACTOR,
  writePending,
  type ChangeContext,
  type PendingRecord,
} from './context.ts';
import { ChangeError } from './errors.ts';
import { evaluateGate, findChange } from './gate-runner.ts';
import { assertIndependent } from '../embedded/forge/index.ts';
import { authorize } from './permissions.ts';
import { refusing } from './refusals.ts';
import { changeRequest, recordChangeOpened } from './service.ts';
import { advanceChange, cancelChange } from './transitions.ts';

export interface EmergencyRequest {
  proposal: string;
  reason: string;
  /** Go ahead without a change record when the change system is unreachable. */
  breakGlass?: boolean;
}

export interface EmergencyResult {
  proposal: Proposal;
  change?: ChangeRecord;
  breakGlass: boolean;
  reviewDueBy: string;
}

/**
 * The emergency path: an on-call engineer (not the author, not the last pusher) declares the
 * emergency, which is their approval; the change becomes an emergency change and merges with that
 * one approval; someone else must review it within the environment's window. When the change
 * system is unreachable the declaration refuses unless the engineer breaks glass, which merges
 * with the reason recorded and owes the change record until the system is back. Breaking glass
 * also lets a sole responder go ahead on their own change: the self-approval is recorded as
 * such and every audit reports it as a separation-of-duties failure.
 */
export async function declareEmergency(
  context: ChangeContext,
  actor: Actor,
  request: EmergencyRequest,
): Promise<EmergencyResult> {
  const refusal = { proposal: request.proposal, actor: actor.name, action: 'emergency' };
  const breakGlass = request.breakGlass ?? false;
  const { proposal, dueBy, selfApproved } = await refusing(context.ledger, refusal, async () => {
    authorize(actor, 'emergency');
    if (request.reason.trim().length < 5) {
      throw new ChangeError('NOT_EMERGENCY', 'give the emergency a reason (--reason "…")');
    }
    const proposal = await context.forge.getProposal(request.proposal);
    if (proposal.state !== 'open') {
      throw new ChangeError('PROPOSAL_NOT_OPEN', `proposal ${proposal.id} is ${proposal.state}`);
    }
    const selfApproved = isSelfApproval(proposal, actor.name, breakGlass);
    const governance = await governanceOf(context, proposal);
    const window = durationMs(governance.emergencyReviewWindow);
    const dueBy = new Date(context.clock().getTime() + window).toISOString();
    return { proposal, dueBy, selfApproved };
  });
  const emergency: EmergencyDetails = {
    declaredBy: actor.name,
    reason: request.reason,
    reviewDueBy: dueBy,
    breakGlass: false,
    ...(selfApproved ? { selfApproval: { commit: proposal.headCommit } } : {}),
  };
  const change = await refusing(context.ledger, refusal, () =>
    openEmergencyChange(context, proposal, actor, emergency, breakGlass),
  );
  if (selfApproved) await recordBreakGlass(context, proposal, actor, emergency);
  await approveAsOncall(context, actor, proposal, change, request.reason, selfApproved);
  await evaluateGate(context, proposal.id);
  const merged = await context.forge.merge(proposal.id, actor.name, {
    emergency: true,
    ...(change && !selfApproved ? {} : { breakGlass: true }),
    ...(selfApproved ? { selfApproved } : {}),
  });
  return {
    proposal: merged,
    ...(change ? { change: await context.changeSystem.get(change.number) } : {}),
    breakGlass: !change || selfApproved,
    reviewDueBy: dueBy,
  };
}

/**
 * Whether `actor` wrote or last pushed the proposal. Without break-glass that refuses, saying
 * what to do; with it a sole responder may go ahead, and the caller records the override.
 */
function isSelfApproval(proposal: Proposal, actor: string, breakGlass: boolean): boolean {
  try {
    assertIndependent(proposal, actor);
    return false;
  } catch (error) {
    if (!(error instanceof ChangeError)) throw error;
    if (breakGlass) return true;
    throw new ChangeError(
      error.code,
      `${error.message}: another on-call engineer must declare it, or break glass with --break-glass (an audit finding)`,
    );
  }
}

async function openEmergencyChange(
  context: ChangeContext,
  proposal: Proposal,
  actor: Actor,
  emergency: EmergencyDetails,
  breakGlass: boolean,
): Promise<ChangeRecord | undefined> {
  const governance = await governanceOf(context, proposal);
  try {
    const existing = await context.changeSystem.findByProposal(proposal.id);
    if (existing && !isClosed(existing)) {
      await cancelChange(context, existing, actor.name, 'superseded by an emergency change');
    }
    const change = await context.changeSystem.open(
      changeRequest(proposal, governance, 'emergency', { emergency }),
    );
    await recordChangeOpened(context, change);
    await recordEmergency(context, change, actor.name);
    return advanceChange(context, change, 'Authorize', actor.name, { reason: emergency.reason });
  } catch (error) {
    if (!isChangeproofError(error) || error.category !== 'upstream') throw error;
    const system = context.changeSystem.name;
    if (!breakGlass) {
      throw new ChangeError(
        'CHANGE_SYSTEM_UNAVAILABLE',
        `change system ${system} is unreachable (${messageOf(error)}); retry, or break glass with --break-glass`,
        { cause: error },
      );
    }
    // A self-approval's entry is written by the caller, once, whether or not the system answers.
    if (!emergency.selfApproval) await recordBreakGlass(context, proposal, actor, emergency);
    const request = changeRequest(proposal, governance, 'emergency', {
      emergency: { ...emergency, breakGlass: true },
      retroactive: true,
    });
    await writePending(context, proposal.id, {
      request,
      breakGlass: {
        actor: actor.name,
        reason: emergency.reason,
        ...(emergency.selfApproval ? { selfApproval: emergency.selfApproval } : {}),
      },
    });
    return undefined;
  }
}

/**
 * The break-glass entry: who overrode, in which roles, why, on which head, and whether it was
 * their own change. The audit reads the roles from here when no change record names them.
 */
async function recordBreakGlass(
  context: ChangeContext,
  proposal: Proposal,
  actor: Actor,
  emergency: EmergencyDetails,
): Promise<void> {
  await recordEvidence(
    context.ledger,
    'change.break-glass',
    `proposal:${proposal.id}`,
    actor.name,
    {
      proposal: proposal.id,
      actor: actor.name,
      roles: [...actor.roles],
      reason: emergency.reason,
      system: context.changeSystem.name,
      headCommit: proposal.headCommit,
      ...(emergency.selfApproval ? { selfApproved: true } : {}),
    },
  );
}

/**
 * The declaration is the on-call approval: a review of the head and the change's approval. A
 * self-approval leaves no review (the forge refuses an author's approval, as GitHub does); the
 * change record still names who approved, so the audit sees exactly what happened.
 */
async function approveAsOncall(
  context: ChangeContext,
  actor: Actor,
  proposal: Proposal,
  change: ChangeRecord | undefined,
  reason: string,
  selfApproved: boolean,
): Promise<void> {
  const at = selfApproved
    ? context.clock().toISOString()
    : (
        await context.forge.review(proposal.id, {
          reviewer: actor.name,
          state: 'approved',
          commit: proposal.headCommit,
          body: `emergency: ${reason}`,
        })
      ).submittedAt;
  if (!change) return;
  await context.changeSystem.recordApproval(change.number, {
    approver: actor.name,
    role: 'oncall',
    state: 'approved',
    at,
    comments: reason,
  });
  await recordEvidence(context.ledger, 'change.approved', `change:${change.number}`, actor.name, {
    change: change.number,
    approver: actor.name,
    role: 'oncall',
    at,
  });
}

async function recordEmergency(context: ChangeContext, change: ChangeRecord, actor: string) {
  await recordEvidence(context.ledger, 'change.emergency', `change:${change.number}`, actor, {
    change: change.number,
    proposal: change.proposal,
    declaredBy: change.emergency!.declaredBy,
    reason: change.emergency!.reason,
    reviewDueBy: change.emergency!.reviewDueBy,
  });
}

/**
 * Records the retroactive review of an emergency change, by an approver or CAB member who is
 * neither the on-call engineer who approved it nor the proposal's author.
 */
export async function recordRetroReview(
  context: ChangeContext,
  actor: Actor,
  number: string,
  review: { outcome: 'accepted' | 'rejected'; notes?: string },
): Promise<ChangeRecord> {
  const change = await context.changeSystem.get(number);
  const refusal = { proposal: change.proposal, actor: actor.name, action: 'retro-review' };
  await refusing(context.ledger, refusal, async () => {
    authorize(actor, 'retro-review');
    if (!change.emergency) {
      throw new ChangeError(
        'NOT_EMERGENCY',
        `change ${number} is ${change.type}, not an emergency`,
      );
    }
    if (change.emergency.review) {
      throw new ChangeError(
        'ALREADY_REVIEWED',
        `change ${number} was reviewed by ${change.emergency.review.reviewer}`,
      );
    }
    const proposal = await context.forge.getProposal(change.proposal);
    if ([change.emergency.declaredBy, proposal.author].includes(actor.name)) {
      throw new ChangeError(
        'RETRO_REVIEWER_NOT_INDEPENDENT',
        `${actor.name} approved or wrote this emergency; someone else must review it`,
      );
    }
  });
  const at = context.clock().toISOString();
  const reviewed = await context.changeSystem.recordRetroReview(number, {
    reviewer: actor.name,
    at,
    ...review,
  });
  await recordEvidence(context.ledger, 'change.retro-reviewed', `change:${number}`, actor.name, {
    change: number,
    reviewer: actor.name,
    outcome: review.outcome,
    ...(review.notes ? { notes: review.notes } : {}),
  });
  return reviewed;
}

/**
 * Opens the change records owed after break-glass merges (or opens that found the change system
 * down), now that it answers. Each is marked retroactive and moved to the state its proposal is
 * in. Returns the records opened; records still owed stay queued.
 */
export async function openOwedChangeRecords(context: ChangeContext): Promise<ChangeRecord[]> {
  const rows = await context.store.db.selectFrom('change_pending_records').selectAll().execute();
  const opened: ChangeRecord[] = [];
  for (const row of rows) {
    const pending = JSON.parse(row.payload) as PendingRecord;
    const change = await context.changeSystem.open(pending.request);
    await recordChangeOpened(context, change);
    if (change.emergency)
      await recordEmergency(context, change, pending.breakGlass?.actor ?? SYSTEM_ACTOR);
    const proposal = await context.forge.getProposal(row.proposal);
    const target =
      proposal.state === 'merged' ? 'Implement' : change.type === 'normal' ? 'Assess' : 'Authorize';
    opened.push(
      await advanceChange(context, change, target, SYSTEM_ACTOR, {
        reason: 'recorded after the fact',
      }),
    );
    await context.store.db
      .deleteFrom('change_pending_records')
      .where('proposal', '=', row.proposal)
      .execute();
  }
  return opened;
}

/** An emergency change whose retroactive review is overdue: a finding against CP-05. */
export interface OverdueReview {
  change?: string;
  proposal: string;
  declaredBy: string;
  reason: string;
  reviewDueBy: string;
  /** Milliseconds past due at the time asked. */
  overdueByMs: number;
  control: 'CP-05';
}

/** Emergency changes (and owed break-glass records) not reviewed by their due time, at `at`. */
export async function overdueRetroReviews(
  context: ChangeContext,
  at: Date,
): Promise<OverdueReview[]> {
  const findings: OverdueReview[] = [];
  const emergencies = await context.changeSystem.list({ type: 'emergency' });
  const owed = await context.store.db.selectFrom('change_pending_records').selectAll().execute();
  const details = [
    ...emergencies.map((c) => ({
      change: c.number as string | undefined,
      proposal: c.proposal,
      emergency: c.emergency,
    })),
    ...owed.map((row) => ({
      change: undefined,
      proposal: row.proposal,
      emergency: (JSON.parse(row.payload) as PendingRecord).request.emergency,
    })),
  ];
  for (const { change, proposal, emergency } of details) {
    if (!emergency || emergency.review) continue;
    const overdueByMs = at.getTime() - Date.parse(emergency.reviewDueBy);
    if (overdueByMs <= 0) continue;
    findings.push({
      ...(change ? { change } : {}),
      proposal,
      declaredBy: emergency.declaredBy,
      reason: emergency.reason,
      reviewDueBy: emergency.reviewDueBy,
      overdueByMs,
      control: 'CP-05',
    });
  }
  return findings;
}

export { readPending, findChange };
