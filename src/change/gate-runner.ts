import { recordEvidence } from '../domain/evidence.ts';
import type { ChangeRecord } from '../domain/change-system.ts';
import { isChangeproofError } from '../errors.ts';
import { CHANGE_APPROVED_CONTEXT } from '../embedded/forge/protection.ts';
import { governanceOf, readPending, SYSTEM_ACTOR, type ChangeContext } from './context.ts';
import { decideGate, gateEvidence, type GateInput, type GateVerdict } from './gate.ts';
import { advanceChange } from './transitions.ts';

/**
 * Evaluates the gate for a proposal's head and writes the verdict: the status on the head commit
 * (decided and written inside one write-locked transaction, so a racing review cannot leave an
 * older verdict on top of a newer one) and a `gate.verdict` entry with its inputs. A normal
 * change whose gate passes moves on to Scheduled.
 */
export async function evaluateGate(
  context: ChangeContext,
  proposalId: string,
): Promise<GateVerdict> {
  const proposal = await context.forge.getProposal(proposalId);
  const governance = await governanceOf(context, proposal);
  const change = await findChange(context, proposalId);
  const pending = await readPending(context, proposalId);
  const { input, verdict } = await context.store.exclusive(async (db) => {
    const current = await context.forge.getProposalIn(db, proposalId);
    const input: GateInput = {
      proposal: current,
      reviews: await context.forge.listReviewsIn(db, proposalId),
      statuses: await context.forge.listStatusesIn(db, current.headCommit),
      ...(change ? { change } : {}),
      ...(pending?.breakGlass ? { breakGlass: pending.breakGlass } : {}),
      roles: context.roles,
      governance,
    };
    const verdict = decideGate(input);
    if (current.state === 'open') {
      await context.forge.writeStatus(db, {
        commit: current.headCommit,
        context: CHANGE_APPROVED_CONTEXT,
        state: verdict.state,
        description: verdict.description,
      });
    }
    return { input, verdict };
  });
  await recordEvidence(context.ledger, 'gate.verdict', `proposal:${proposalId}`, SYSTEM_ACTOR, {
    proposal: proposalId,
    commit: input.proposal.headCommit,
    context: CHANGE_APPROVED_CONTEXT,
    state: verdict.state,
    rule: verdict.rule,
    inputs: { ...gateEvidence(input), approvers: verdict.approvers.map((a) => a.reviewer) },
  });
  if (verdict.state === 'success' && change && ['Assess', 'Authorize'].includes(change.state)) {
    await advanceChange(context, change, 'Scheduled', SYSTEM_ACTOR, { reason: verdict.rule });
  }
  return verdict;
}

/** The proposal's change record, or undefined when none exists or the system is unreachable. */
export async function findChange(
  context: ChangeContext,
  proposalId: string,
): Promise<ChangeRecord | undefined> {
  try {
    return await context.changeSystem.findByProposal(proposalId);
  } catch (error) {
    // An unreachable change system means no record to judge by: the gate stays pending (or
    // break-glass applies); it never becomes a pass.
    if (isChangeproofError(error) && error.category === 'upstream') return undefined;
    throw error;
  }
}
