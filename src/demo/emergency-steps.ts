import { changeManagementFor } from '../change/index.ts';
import { requestRollback } from '../reconcile/rollback.ts';
import { APP, ENV, SERVICE, sayChangeState, waitForSync } from './release-steps.ts';
import type { DemoStep } from './context.ts';

/**
 * The second release misbehaves at night: dave, alone on call, asks for a rollback and cannot
 * approve his own change, so he breaks glass; the engine syncs the earlier deployment back, and
 * bob reviews the emergency afterwards, late. The audit reports both.
 */
const emergencyRollbackStep: DemoStep = {
  title: 'An emergency rollback through the same governed path',
  async run(context) {
    const { ws, memory, say } = context;
    const changes = changeManagementFor(ws);
    const actor = async (name: string) =>
      changes.identity.authenticate(
        (await changes.identity.issue(name, { ttlSeconds: 600 })).token,
      );
    const lease = await ws.broker.openLease({
      holder: 'rollback:dave',
      scopes: ['sign:pipeline'],
      ttlSeconds: 120,
    });
    const proposal = await requestRollback(changes.forge, ws.ledger, {
      env: ENV,
      service: SERVICE,
      to: memory.get('first.deployment'),
      actor: 'dave',
      reason: 'checkout error rate up after the half-even rounding release',
      emergency: true,
      signer: await ws.broker.signer(lease.id, 'pipeline'),
    }).finally(() => ws.broker.revokeLease(lease.id));
    say(
      `dave (oncall, alone tonight) asked for a rollback of ${APP} to ${memory.get('first.deployment')}: proposal ${proposal.id}`,
    );

    const dave = await actor('dave');
    const declaration = { proposal: proposal.id, reason: 'checkout error rate at 12%' };
    try {
      await changes.declareEmergency(dave, declaration);
      throw new Error('demo: dave approved his own emergency');
    } catch (error) {
      say(
        `dave declares the emergency on his own change -> refused ${(error as { code?: string }).code}`,
      );
    }
    const emergency = await changes.declareEmergency(dave, { ...declaration, breakGlass: true });
    say(
      `dave breaks glass: proposal ${emergency.proposal.state}, change ${emergency.change?.number} (${emergency.change?.type}), self-approval recorded; retroactive review due by ${emergency.reviewDueBy}`,
    );
    const deployment = await waitForSync(context, emergency.proposal.mergeCommit!);
    say(
      `${deployment.deployment}: rolled back, images ${deployment.images.map((i) => i.digest.slice(0, 19)).join(', ')}…`,
    );
    await sayChangeState(context, proposal.id);

    // The demo's production review window is short: wait it out, as a busy team would.
    const due = Date.parse(emergency.reviewDueBy);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now() + 500)));
    const overdue = await changes.overdueRetroReviews(new Date());
    say(
      `the ${DEMO_REVIEW_WINDOW} review window passed: overdue ${overdue.map((f) => `${f.control} ${f.change}`).join(', ') || 'none'}`,
    );
    await changes.recordRetroReview(await actor('bob'), emergency.change!.number, {
      outcome: 'accepted',
      notes: 'rollback was the right call; fix rounding behind a flag',
    });
    say('bob (approver) reviewed it retroactively, late: accepted; the audit below flags it');
  },
};

export const emergencySteps: DemoStep[] = [emergencyRollbackStep];

/**
 * Production's retroactive-review window in the demo workspace: short enough that the story can
 * wait it out and show the audit catching a late review (72h in a real workspace).
 */
export const DEMO_REVIEW_WINDOW = '15s';
