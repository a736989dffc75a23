import {
  changeStateCodes,
  stepsTo,
  type ChangeRecord,
  type ChangeState,
  type TransitionRequest,
} from '../domain/change-system.ts';
import { recordEvidence } from '../domain/evidence.ts';
import type { ChangeContext } from './context.ts';

/**
 * Moves a change forward along its type's path up to `target`, one recorded step at a time, so
 * the ledger shows every state it passed (Assess → Authorize → Scheduled, not a jump).
 */
export async function advanceChange(
  context: ChangeContext,
  change: ChangeRecord,
  target: ChangeState,
  actor: string,
  request: TransitionRequest = {},
): Promise<ChangeRecord> {
  let current = change;
  for (const step of stepsTo(current.type, current.state, target)) {
    const from = current.state;
    const last = step === target;
    current = await context.changeSystem.transition(current.number, step, last ? request : {});
    await recordEvidence(context.ledger, 'change.state', `change:${current.number}`, actor, {
      change: current.number,
      from,
      to: step,
      stateCode: changeStateCodes[step],
      ...(request.reason ? { reason: request.reason } : {}),
    });
  }
  return current;
}

/** Cancels an open change (the proposal closed, or an emergency superseded it). */
export async function cancelChange(
  context: ChangeContext,
  change: ChangeRecord,
  actor: string,
  reason: string,
): Promise<ChangeRecord> {
  const canceled = await context.changeSystem.transition(change.number, 'Canceled', {
    closeNotes: reason,
  });
  await recordEvidence(context.ledger, 'change.state', `change:${change.number}`, actor, {
    change: change.number,
    from: change.state,
    to: 'Canceled',
    stateCode: changeStateCodes.Canceled,
    reason,
  });
  return canceled;
}
