import type { ChangeRecord, ChangeType, OpenChangeRequest } from '../domain/change-system.ts';
import { recordEvidence } from '../domain/evidence.ts';
import type { CommitStatus, OpenProposalRequest, Proposal, Review } from '../domain/forge.ts';
import type { Actor } from '../domain/identity.ts';
import {
  assertIndependent,
  type ForgePolicy,
  type MergeOptions,
  type MergePath,
} from '../embedded/forge/index.ts';
import {
  CHANGE_APPROVED_CONTEXT,
  RENDER_CONTEXT,
  type BranchProtection,
} from '../embedded/forge/protection.ts';
import { isChangeproofError } from '../errors.ts';
import { renderCheck, type CheckResult } from './checks.ts';
import { governanceOf, SYSTEM_ACTOR, writePending, type ChangeContext } from './context.ts';
import { ChangeError } from './errors.ts';
import { evaluateGate, findChange } from './gate-runner.ts';
import type { GateVerdict } from './gate.ts';
import type { EffectiveGovernance } from './governance.ts';
import { approvalRole, authorize } from './permissions.ts';
import { refusing } from './refusals.ts';
import { advanceChange, cancelChange } from './transitions.ts';

export interface ReviewInput {
  state: 'approved' | 'changes_requested' | 'commented';
  /** The commit the reviewer read; the head by default. */
  commit?: string;
  body?: string;
}

/**
 * Review and change management for people: every action takes an authenticated {@link Actor},
 * checks their role, records refusals, and keeps the forge, the change record and the gate in
 * step. It is also the forge's policy, so a proposal opened by the pipeline straight through the
 * forge port gets its change record, checks and gate verdict all the same.
 */
export class ChangeService implements ForgePolicy {
  constructor(
    private readonly context: ChangeContext,
    private readonly checks: (
      gitDir: string,
      proposal: Proposal,
    ) => Promise<CheckResult> = renderCheck,
  ) {}

  // ---- reads (every role, auditors included)

  async listProposals(actor: Actor, state?: Proposal['state']): Promise<Proposal[]> {
    authorize(actor, 'read');
    return this.context.forge.listProposals(state ? { state } : {});
  }

  async showProposal(actor: Actor, id: string) {
    authorize(actor, 'read');
    const proposal = await this.context.forge.getProposal(id);
    const reviews = await this.context.forge.listReviews(id);
    const statuses = await this.context.forge.listStatuses(proposal.headCommit);
    const change = await findChange(this.context, id);
    return { proposal, reviews, statuses, change: change?.number };
  }

  async listChanges(actor: Actor): Promise<ChangeRecord[]> {
    authorize(actor, 'read');
    return this.context.changeSystem.list();
  }

  async showChange(actor: Actor, number: string): Promise<ChangeRecord> {
    authorize(actor, 'read');
    return this.context.changeSystem.get(number);
  }

  // ---- actions

  async openProposal(
    actor: Actor,
    request: Omit<OpenProposalRequest, 'author'>,
  ): Promise<Proposal> {
    const refusal = { proposal: `branch:${request.branch}`, actor: actor.name, action: 'open' };
    await refusing(this.context.ledger, refusal, async () => authorize(actor, 'open'));
    return this.context.forge.openProposal({ ...request, author: actor.name });
  }

  /** Records a push of new commits by `actor`: approvals are dismissed, checks and gate rerun. */
  async recordPush(actor: Actor, id: string): Promise<Proposal> {
    await refusing(
      this.context.ledger,
      { proposal: id, actor: actor.name, action: 'push' },
      async () => authorize(actor, 'open'),
    );
    return this.context.forge.recordPush(id, actor.name);
  }

  async review(
    actor: Actor,
    id: string,
    input: ReviewInput,
  ): Promise<{ review: Review; gate: GateVerdict }> {
    const refusal = { proposal: id, actor: actor.name, action: `review:${input.state}` };
    const { proposal, change } = await refusing(this.context.ledger, refusal, async () => {
      const proposal = await this.context.forge.getProposal(id);
      const governance = await governanceOf(this.context, proposal);
      // Separation of duties is the first thing an approval answers to, before roles.
      if (input.state === 'approved') assertIndependent(proposal, actor.name);
      authorize(actor, input.state === 'commented' ? 'comment' : 'approve');
      if (input.state === 'approved' && governance.production)
        authorize(actor, 'approve-production');
      return { proposal, change: await findChange(this.context, id) };
    });
    const review = await this.context.forge.review(id, {
      reviewer: actor.name,
      state: input.state,
      commit: input.commit ?? proposal.headCommit,
      ...(input.body ? { body: input.body } : {}),
    });
    if (change && input.state !== 'commented')
      await this.recordChangeApproval(actor, change, review);
    return { review, gate: await evaluateGate(this.context, id) };
  }

  approve(actor: Actor, id: string, commit?: string, body?: string) {
    return this.review(actor, id, {
      state: 'approved',
      ...(commit ? { commit } : {}),
      ...(body ? { body } : {}),
    });
  }

  reject(actor: Actor, id: string, body?: string, commit?: string) {
    return this.review(actor, id, {
      state: 'changes_requested',
      ...(commit ? { commit } : {}),
      ...(body ? { body } : {}),
    });
  }

  /** Merges under branch protection, after refreshing the gate verdict on the head. */
  async merge(actor: Actor, id: string): Promise<Proposal> {
    // A merge retried after a crash finds the earlier one done: its evidence is written first.
    await this.context.forge.recordUnrecordedMerges?.();
    await refusing(
      this.context.ledger,
      { proposal: id, actor: actor.name, action: 'merge' },
      async () => {
        authorize(actor, 'merge');
        await this.context.forge.getProposal(id);
      },
    );
    await evaluateGate(this.context, id);
    return this.context.forge.merge(id, actor.name);
  }

  /** Closes a proposal without merging; its change is canceled. */
  async close(actor: Actor, id: string): Promise<Proposal> {
    await refusing(
      this.context.ledger,
      { proposal: id, actor: actor.name, action: 'close' },
      async () => authorize(actor, 'merge'),
    );
    const proposal = await this.context.forge.closeProposal(id, actor.name);
    const change = await findChange(this.context, id);
    if (change && change.state !== 'Closed' && change.state !== 'Canceled') {
      await cancelChange(this.context, change, actor.name, `proposal ${id} closed without merging`);
    }
    return proposal;
  }

  /** Plans the window a normal change is deployed in (the CD plane syncs only inside it). */
  async schedule(actor: Actor, number: string, window: { start: string; end: string }) {
    const change = await this.context.changeSystem.get(number);
    await refusing(
      this.context.ledger,
      { proposal: change.proposal, actor: actor.name, action: 'schedule' },
      async () => {
        authorize(actor, 'schedule');
        if (!(Date.parse(window.start) < Date.parse(window.end))) {
          throw new ChangeError(
            'INVALID_TRANSITION',
            'the window must start before it ends (ISO 8601 times)',
          );
        }
      },
    );
    const scheduled = await this.context.changeSystem.schedule(number, window);
    await evaluateGate(this.context, change.proposal);
    return scheduled;
  }

  private async recordChangeApproval(
    actor: Actor,
    change: ChangeRecord,
    review: Review,
  ): Promise<void> {
    const approval = {
      approver: actor.name,
      role: approvalRole(actor, change.type === 'emergency'),
      state: review.state === 'approved' ? ('approved' as const) : ('rejected' as const),
      at: review.submittedAt,
      ...(review.body ? { comments: review.body } : {}),
    };
    await this.context.changeSystem.recordApproval(change.number, approval);
    if (approval.state === 'approved') {
      await recordEvidence(
        this.context.ledger,
        'change.approved',
        `change:${change.number}`,
        actor.name,
        {
          change: change.number,
          approver: actor.name,
          role: approval.role,
          at: approval.at,
        },
      );
    }
  }

  // ---- the forge's policy

  async protectionFor(proposal: Proposal, options: MergeOptions): Promise<BranchProtection> {
    const governance = await governanceOf(this.context, proposal);
    const normal = proposal.routine
      ? governance.approvals
      : Math.max(governance.approvals, governance.nonRoutineApprovals);
    // Break glass by the change's own author leaves no independent approval to count: the gate
    // has already required the break-glass record, and the audit reports it as a finding.
    const emergency = options.breakGlass && options.selfApproved ? 0 : 1;
    return {
      requiredApprovals: options.emergency || options.breakGlass ? emergency : normal,
      requiredContexts: [CHANGE_APPROVED_CONTEXT, RENDER_CONTEXT],
      requireSignedCommits: true,
    };
  }

  rolesOf(user: string): string[] {
    return [...(this.context.roles.get(user) ?? [])];
  }

  async changeFor(proposal: Proposal): Promise<string | undefined> {
    return (await findChange(this.context, proposal.id))?.number;
  }

  async afterOpen(proposal: Proposal): Promise<void> {
    const governance = await governanceOf(this.context, proposal);
    const type = await this.changeTypeFor(proposal, governance);
    await this.openChange(proposal, governance, type);
    await this.runChecks(proposal);
    await evaluateGate(this.context, proposal.id);
  }

  async afterPush(proposal: Proposal): Promise<void> {
    await this.runChecks(proposal);
    await evaluateGate(this.context, proposal.id);
  }

  async afterMerge(proposal: Proposal, _path: MergePath): Promise<void> {
    const change = await findChange(this.context, proposal.id);
    if (!change) return;
    await advanceChange(this.context, change, 'Implement', SYSTEM_ACTOR, {
      reason: `proposal ${proposal.id} merged as ${proposal.mergeCommit?.slice(0, 12)}`,
    });
  }

  /** Opens the change record, or queues it when the change system is unreachable. */
  async openChange(
    proposal: Proposal,
    governance: EffectiveGovernance,
    type: ChangeType,
    extra: Partial<OpenChangeRequest> = {},
  ): Promise<ChangeRecord | undefined> {
    const request = changeRequest(proposal, governance, type, extra);
    try {
      const change = await this.context.changeSystem.open(request);
      await recordChangeOpened(this.context, change);
      if (type === 'normal') return advanceChange(this.context, change, 'Assess', SYSTEM_ACTOR);
      return change;
    } catch (error) {
      if (!isChangeproofError(error) || error.category !== 'upstream') throw error;
      await writePending(this.context, proposal.id, { request });
      return undefined;
    }
  }

  private async changeTypeFor(
    proposal: Proposal,
    governance: EffectiveGovernance,
  ): Promise<ChangeType> {
    if (!proposal.routine || !governance.standardChanges.includes('routine-image-bump'))
      return 'normal';
    // A standard change needs a clean record: no unsuccessful change of this service here.
    const history = await this.context.changeSystem
      .list({ env: governance.env })
      .catch(() => undefined);
    const clean = history?.every(
      (c) => c.service !== proposal.service || c.closeCode !== 'unsuccessful',
    );
    return clean ? 'standard' : 'normal';
  }

  private async runChecks(proposal: Proposal): Promise<CommitStatus> {
    const result = await this.checks(this.context.gitDir, proposal);
    return this.context.forge.setStatus({
      commit: proposal.headCommit,
      context: RENDER_CONTEXT,
      ...result,
    });
  }
}

/** The change record a proposal asks for, with the artifact's evidence linked. */
export function changeRequest(
  proposal: Proposal,
  governance: EffectiveGovernance,
  type: ChangeType,
  extra: Partial<OpenChangeRequest> = {},
): OpenChangeRequest {
  return {
    type,
    proposal: proposal.id,
    service: proposal.service ?? '(several)',
    env: governance.env,
    shortDescription: proposal.title,
    description: `${proposal.description}\n\nproposal ${proposal.id}: ${proposal.branch} at ${proposal.headCommit}`,
    evidence: proposal.evidence ?? {},
    cabRequired: governance.cabRequired && type === 'normal',
    ...extra,
  };
}

export async function recordChangeOpened(
  context: ChangeContext,
  change: ChangeRecord,
): Promise<void> {
  await recordEvidence(context.ledger, 'change.opened', `change:${change.number}`, SYSTEM_ACTOR, {
    change: change.number,
    type: change.type,
    proposal: change.proposal,
    service: change.service,
    env: change.env,
    ...(change.evidence.artifact ? { artifact: change.evidence.artifact } : {}),
    ...(change.evidence.sbomDigest ? { sbomDigest: change.evidence.sbomDigest } : {}),
    ...(change.evidence.signer ? { signer: change.evidence.signer } : {}),
    ...(change.evidence.scanVerdict ? { scanVerdict: change.evidence.scanVerdict } : {}),
    ...(change.retroactive ? { retroactive: true } : {}),
  });
}
