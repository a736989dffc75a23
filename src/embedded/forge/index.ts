import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { ChangeError } from '../../change/errors.ts';
import { refusing } from '../../change/refusals.ts';
import { recordEvidence } from '../../domain/evidence.ts';
import type {
  CommitStatus,
  Forge,
  OpenProposalRequest,
  Proposal,
  Review,
} from '../../domain/forge.ts';
import { UsageError } from '../../errors.ts';
import { git } from '../../gitops/git.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Store } from '../../store/open.ts';
import type { Database } from '../../store/schema.ts';
import { approvedDesiredDigests, type ApprovedDigest } from './desired-digests.ts';
import { summarizeDiff } from './diff.ts';
import {
  countingApprovals,
  protectionViolations,
  short,
  type BranchProtection,
} from './protection.ts';
import { rowToProposal, rowToReview, rowToStatus } from './rows.ts';
import { verifyCommitRange } from './signatures.ts';
import { writeAllowedSigners, type AllowedSigner } from '../../gitops/allowed-signers.ts';

export type MergePath = 'normal' | 'emergency' | 'break-glass' | 'automatic';
export interface MergeOptions {
  emergency?: boolean;
  breakGlass?: boolean;
  /** Break glass without an independent approval: the on-call engineer wrote the change. */
  selfApproved?: boolean;
}

/**
 * What the forge asks of the governance around it: branch protection per proposal, the roles of
 * a user (for the evidence), and what happens after each event (change records, checks, gate).
 */
export interface ForgePolicy {
  /** May refuse, e.g. when the environment's governance file is malformed. */
  protectionFor(proposal: Proposal, options: MergeOptions): Promise<BranchProtection>;
  rolesOf(user: string): string[];
  changeFor?(proposal: Proposal): Promise<string | undefined>;
  afterOpen?(proposal: Proposal, request: OpenProposalRequest): Promise<void>;
  afterPush?(proposal: Proposal): Promise<void>;
  afterMerge?(proposal: Proposal, path: MergePath): Promise<void>;
}

/** What a merge's evidence records besides the proposal and its approvals. */
interface MergeFacts {
  /** The allowed signer of the merged head, when commits must be signed. */
  signedBy?: string;
  /** The desired state of each application the proposal changes, rendered at its head. */
  digests: ApprovedDigest[];
  /** Written on recovery, after a crash between the merge and its entry. */
  recovered?: boolean;
}

export interface EmbeddedForgeOptions {
  /** The bare config repo. */
  gitDir: string;
  store: Store;
  ledger: Ledger;
  /** Where the forge keeps its allowed-signers file. */
  stateDir: string;
  allowedSigners: AllowedSigner[];
  /** Environment names from the least to the most protected. */
  environments: string[];
  policy: ForgePolicy;
  clock?: () => Date;
}

/**
 * The local-mode forge: the bare config repo plus proposals, reviews and statuses in the
 * workspace database, and merges under branch protection. Merges fast-forward only, so the
 * commit that lands on main is byte for byte the commit the approvers reviewed and its author
 * signed; main moves by compare-and-swap (`git update-ref <new> <old>`), so a crash or a racing
 * merge leaves main before or after, never between.
 */
export class EmbeddedForge implements Forge {
  readonly repositoryUrl: string;
  readonly allowedSignersFile: string;
  private readonly clock: () => Date;

  constructor(private readonly options: EmbeddedForgeOptions) {
    this.repositoryUrl = options.gitDir;
    this.clock = options.clock ?? (() => new Date());
    mkdirSync(options.stateDir, { recursive: true });
    this.allowedSignersFile = join(options.stateDir, 'allowed_signers');
    writeAllowedSigners(this.allowedSignersFile, options.allowedSigners);
  }

  private get db(): Kysely<Database> {
    return this.options.store.db;
  }

  async openProposal(request: OpenProposalRequest): Promise<Proposal> {
    const refusal = { proposal: `branch:${request.branch}`, actor: request.author, action: 'open' };
    const { proposal, created } = await refusing(this.options.ledger, refusal, () =>
      this.createProposal(request),
    );
    if (!created) return proposal;
    await recordEvidence(
      this.options.ledger,
      'proposal.opened',
      `proposal:${proposal.id}`,
      proposal.author,
      {
        proposal: proposal.id,
        service: proposal.service ?? '',
        env: proposal.env ?? '',
        author: proposal.author,
        branch: proposal.branch,
        headCommit: proposal.headCommit,
        baseCommit: proposal.baseCommit,
        routine: proposal.routine ?? false,
        changedPaths: proposal.changedPaths ?? [],
        ...(proposal.evidence?.artifact ? { image: proposal.evidence.artifact } : {}),
      },
    );
    await this.options.policy.afterOpen?.(proposal, request);
    return proposal;
  }

  private async createProposal(
    request: OpenProposalRequest,
  ): Promise<{ proposal: Proposal; created: boolean }> {
    const baseBranch = request.baseBranch ?? 'main';
    const head = await this.branchHead(request.branch);
    const base = await this.branchHead(baseBranch);
    const summary = await summarizeDiff(this.options.gitDir, base, head, this.options.environments);
    const draft: Proposal = {
      id: 'draft',
      title: request.title,
      description: request.description,
      author: request.author,
      branch: request.branch,
      baseBranch,
      baseCommit: base,
      headCommit: head,
      lastPusher: request.author,
      state: 'open',
      createdAt: this.clock().toISOString(),
      routine: summary.routine,
      changedPaths: summary.changedPaths,
      evidence: request.evidence ?? {},
      ...(summary.service ? { service: summary.service } : {}),
      ...(summary.env ? { env: summary.env } : {}),
    };
    // Resolving protection first means a malformed governance file refuses before anything is written.
    await this.options.policy.protectionFor(draft, {});
    return this.options.store.exclusive(async (db) => {
      const existing = await db
        .selectFrom('forge_proposals')
        .selectAll()
        .where('branch', '=', request.branch)
        .where('state', '=', 'open')
        .executeTakeFirst();
      if (existing) return { proposal: rowToProposal(existing), created: false };
      const last = await db
        .selectFrom('forge_proposals')
        .select((eb) => eb.fn.max('number').as('max'))
        .executeTakeFirst();
      const number = Number(last?.max ?? 0) + 1;
      const proposal = { ...draft, id: String(number) };
      await db.insertInto('forge_proposals').values(toRow(proposal, number)).execute();
      return { proposal, created: true };
    });
  }

  async getProposal(id: string): Promise<Proposal> {
    return this.getProposalIn(this.db, id);
  }

  async listProposals(filter: { state?: Proposal['state'] } = {}): Promise<Proposal[]> {
    let query = this.db.selectFrom('forge_proposals').selectAll().orderBy('number');
    if (filter.state) query = query.where('state', '=', filter.state);
    return (await query.execute()).map(rowToProposal);
  }

  async recordPush(id: string, pusher: string): Promise<Proposal> {
    const refusal = { proposal: id, actor: pusher, action: 'push' };
    const { proposal, dismissed, moved } = await refusing(this.options.ledger, refusal, () =>
      this.applyPush(id, pusher),
    );
    if (!moved) return proposal;
    await recordEvidence(this.options.ledger, 'proposal.pushed', `proposal:${id}`, pusher, {
      proposal: id,
      pusher,
      headCommit: proposal.headCommit,
      dismissedApprovals: dismissed,
    });
    await this.options.policy.afterPush?.(proposal);
    return proposal;
  }

  private async applyPush(id: string, pusher: string) {
    const current = await this.openProposalOrThrow(id);
    const head = await this.branchHead(current.branch);
    if (head === current.headCommit) return { proposal: current, dismissed: [], moved: false };
    const summary = await summarizeDiff(
      this.options.gitDir,
      current.baseCommit,
      head,
      this.options.environments,
    );
    return this.options.store.exclusive(async (db) => {
      const approvals = await db
        .selectFrom('forge_reviews')
        .select(['id', 'reviewer'])
        .where('proposal', '=', id)
        .where('state', '=', 'approved')
        .execute();
      // New commits dismiss every approval: none of them saw what is now the head.
      await db
        .updateTable('forge_reviews')
        .set({ state: 'dismissed' })
        .where('proposal', '=', id)
        .where('state', '=', 'approved')
        .execute();
      await db
        .updateTable('forge_proposals')
        .set({
          head_commit: head,
          last_pusher: pusher,
          routine: summary.routine ? 1 : 0,
          changed_paths: JSON.stringify(summary.changedPaths),
          service: summary.service ?? null,
          env: summary.env ?? null,
        })
        .where('id', '=', id)
        .execute();
      const row = await db
        .selectFrom('forge_proposals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return {
        proposal: rowToProposal(row),
        dismissed: approvals.map((a) => a.reviewer),
        moved: true,
      };
    });
  }

  async review(id: string, input: Omit<Review, 'proposal' | 'submittedAt'>): Promise<Review> {
    const refusal = { proposal: id, actor: input.reviewer, action: `review:${input.state}` };
    const review = await refusing(this.options.ledger, refusal, () => this.insertReview(id, input));
    await recordEvidence(
      this.options.ledger,
      'proposal.reviewed',
      `proposal:${id}`,
      review.reviewer,
      {
        proposal: id,
        reviewer: review.reviewer,
        roles: this.options.policy.rolesOf(review.reviewer),
        state: review.state as 'approved' | 'changes_requested' | 'commented',
        commit: review.commit,
      },
    );
    return review;
  }

  private insertReview(id: string, input: Omit<Review, 'proposal' | 'submittedAt'>) {
    if (!['approved', 'changes_requested', 'commented'].includes(input.state)) {
      throw new UsageError('a review approves, requests changes or comments');
    }
    // Inside the write lock, so a push or a merge cannot slip between the check and the insert.
    return this.options.store.exclusive(async (db) => {
      const proposal = await this.openProposalOrThrow(id, db);
      assertReviewable(proposal, input);
      const review: Review = {
        ...input,
        proposal: id,
        submittedAt: this.clock().toISOString(),
      };
      await db
        .insertInto('forge_reviews')
        .values({
          id: randomUUID(),
          proposal: id,
          reviewer: review.reviewer,
          state: review.state,
          commit_sha: review.commit,
          body: review.body ?? null,
          submitted_at: review.submittedAt,
        })
        .execute();
      return review;
    });
  }

  async listReviews(id: string): Promise<Review[]> {
    await this.getProposal(id);
    return listReviews(this.db, id);
  }

  async setStatus(input: Omit<CommitStatus, 'updatedAt'>): Promise<CommitStatus> {
    return this.options.store.exclusive((db) => this.writeStatus(db, input));
  }

  /** Writes a status inside a caller's transaction (the gate decides and writes in one). */
  async writeStatus(
    db: Kysely<Database>,
    input: Omit<CommitStatus, 'updatedAt'>,
  ): Promise<CommitStatus> {
    const status: CommitStatus = { ...input, updatedAt: this.clock().toISOString() };
    const row = {
      commit_sha: status.commit,
      context: status.context,
      state: status.state,
      description: status.description,
      target_url: status.targetUrl ?? null,
      updated_at: status.updatedAt,
    };
    await db
      .insertInto('forge_statuses')
      .values(row)
      .onConflict((c) =>
        c.columns(['commit_sha', 'context']).doUpdateSet({
          state: row.state,
          description: row.description,
          target_url: row.target_url,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    return status;
  }

  async listStatuses(commit: string): Promise<CommitStatus[]> {
    return listStatuses(this.db, commit);
  }

  /** Reads a proposal inside a caller's transaction. */
  async getProposalIn(db: Kysely<Database>, id: string): Promise<Proposal> {
    const row = await db
      .selectFrom('forge_proposals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) {
      throw new ChangeError('UNKNOWN_PROPOSAL', `no proposal ${id}; see changeproof proposal list`);
    }
    return rowToProposal(row);
  }

  listReviewsIn(db: Kysely<Database>, id: string): Promise<Review[]> {
    return listReviews(db, id);
  }

  listStatusesIn(db: Kysely<Database>, commit: string): Promise<CommitStatus[]> {
    return listStatuses(db, commit);
  }

  async merge(id: string, actor: string, options: MergeOptions = {}): Promise<Proposal> {
    const refusal = { proposal: id, actor, action: 'merge' };
    const { proposal, approvals, path, signedBy, digests } = await refusing(
      this.options.ledger,
      refusal,
      () => this.protectedMerge(id, actor, options),
    );
    await this.recordMerge(proposal, actor, approvals, path, { signedBy, digests });
    await this.options.policy.afterMerge?.(proposal, path);
    return proposal;
  }

  /**
   * A merge moves main and marks the proposal merged in one step, then records its evidence; a
   * crash in between leaves a merge without its entry. This writes the missing entries (marked
   * `recovered`, with the approvals the forge stored for the merged head) and moves their
   * changes on, and returns the proposals it recovered. Run at start-up and before every merge.
   */
  async recordUnrecordedMerges(): Promise<string[]> {
    const merged = await this.db
      .selectFrom('forge_proposals')
      .selectAll()
      .where('state', '=', 'merged')
      .execute();
    if (merged.length === 0) return [];
    const recorded = new Set(
      (await this.options.ledger.list({ kind: 'proposal.merged' })).map((e) => e.subject),
    );
    const recovered: string[] = [];
    for (const row of merged) {
      const proposal = rowToProposal(row);
      if (recorded.has(`proposal:${proposal.id}`)) continue;
      const approvals = countingApprovals(proposal, await listReviews(this.db, proposal.id));
      const actor = proposal.mergedBy ?? 'system:forge-recovery';
      const digests = await approvedDesiredDigests(this.options.gitDir, proposal);
      await this.recordMerge(proposal, actor, approvals, 'normal', { digests, recovered: true });
      await this.options.policy.afterMerge?.(proposal, 'normal');
      recovered.push(proposal.id);
    }
    return recovered;
  }

  private async recordMerge(
    proposal: Proposal,
    actor: string,
    approvals: Review[],
    path: MergePath,
    facts: MergeFacts,
  ): Promise<void> {
    const id = proposal.id;
    const { signedBy, digests, recovered } = facts;
    const change = await this.options.policy.changeFor?.(proposal);
    const own = digests.find((d) => d.app === `${proposal.env}/${proposal.service}`);
    await recordEvidence(this.options.ledger, 'proposal.merged', `proposal:${id}`, actor, {
      proposal: id,
      service: proposal.service ?? '',
      env: proposal.env ?? '',
      headCommit: proposal.headCommit,
      mergeCommit: proposal.mergeCommit!,
      mergedBy: actor,
      author: proposal.author,
      lastPusher: proposal.lastPusher,
      approvals: approvals.map((review) => ({
        reviewer: review.reviewer,
        roles: this.options.policy.rolesOf(review.reviewer),
        commit: review.commit,
        at: review.submittedAt,
      })),
      ...(change ? { change } : {}),
      // The allowed signer `git verify-commit` named for the merged head (CP-10's evidence).
      ...(signedBy ? { commitSignedBy: signedBy } : {}),
      // What the approvals cover, digested as the CD plane digests what it applies (CP-11).
      ...(own ? { desiredDigest: own.digest } : {}),
      ...(digests.length > 0 ? { desiredDigests: digests } : {}),
      ...(recovered ? { recovered } : {}),
      path,
    });
  }

  private async protectedMerge(id: string, actor: string, options: MergeOptions) {
    const proposal = await this.openProposalOrThrow(id);
    const protection = await this.options.policy.protectionFor(proposal, options);
    const branchHead = await this.branchHead(proposal.branch);
    if (branchHead !== proposal.headCommit) {
      throw new ChangeError(
        'NOT_HEAD',
        `branch ${proposal.branch} moved to ${short(branchHead)} since ${short(proposal.headCommit)} was reviewed; record the push so review starts again`,
      );
    }
    const main = await this.branchHead(proposal.baseBranch);
    await this.assertFastForward(main, proposal);
    const signed = protection.requireSignedCommits
      ? await verifyCommitRange(
          this.options.gitDir,
          main,
          proposal.headCommit,
          this.allowedSignersFile,
        )
      : [];
    const signedBy = signed.find((c) => c.commit === proposal.headCommit)?.principal;
    // Rendered before the lock: the head is checked again inside it, and a commit never changes.
    const digests = await approvedDesiredDigests(this.options.gitDir, proposal);
    return this.options.store.exclusive(async (db) => {
      // Decided from what is committed now: an approval or push racing this merge either landed
      // before the lock (and counts) or waits until after it (and finds the proposal merged).
      const current = await this.openProposalOrThrow(id, db);
      if (current.headCommit !== proposal.headCommit) {
        throw new ChangeError('NOT_HEAD', `proposal ${id} received new commits; review them first`);
      }
      const reviews = await listReviews(db, id);
      const statuses = await listStatuses(db, current.headCommit);
      const [violation] = protectionViolations(current, reviews, statuses, protection);
      if (violation) throw new ChangeError(violation.code, `cannot merge: ${violation.message}`);
      await this.moveMain(current, main);
      const mergedAt = this.clock().toISOString();
      await db
        .updateTable('forge_proposals')
        .set({
          state: 'merged',
          merge_commit: current.headCommit,
          merged_by: actor,
          merged_at: mergedAt,
        })
        .where('id', '=', id)
        .execute();
      const merged: Proposal = {
        ...current,
        state: 'merged',
        mergeCommit: current.headCommit,
        mergedBy: actor,
        mergedAt,
      };
      return {
        proposal: merged,
        approvals: countingApprovals(current, reviews),
        path: mergePath(options, protection),
        signedBy,
        digests,
      };
    });
  }

  private async assertFastForward(main: string, proposal: Proposal): Promise<void> {
    try {
      await git(['merge-base', '--is-ancestor', main, proposal.headCommit], {
        cwd: this.options.gitDir,
      });
    } catch {
      throw new ChangeError(
        'NOT_FAST_FORWARD',
        `main moved to ${short(main)} after ${proposal.branch} was cut; rebase the branch onto main and push`,
      );
    }
  }

  /** Compare-and-swap of main: git takes the ref lock and refuses if main is no longer `from`. */
  private async moveMain(proposal: Proposal, from: string): Promise<void> {
    try {
      await git(
        [
          'update-ref',
          '-m',
          `changeproof: merge proposal ${proposal.id}`,
          `refs/heads/${proposal.baseBranch}`,
          proposal.headCommit,
          from,
        ],
        { cwd: this.options.gitDir },
      );
    } catch (error) {
      throw new ChangeError(
        'MAIN_MOVED',
        `main moved while merging proposal ${proposal.id}; try the merge again`,
        {
          cause: error,
        },
      );
    }
  }

  /** Closes a proposal without merging it. */
  async closeProposal(id: string, actor: string): Promise<Proposal> {
    const proposal = await refusing(
      this.options.ledger,
      { proposal: id, actor, action: 'close' },
      () => this.openProposalOrThrow(id),
    );
    await this.db
      .updateTable('forge_proposals')
      .set({ state: 'closed' })
      .where('id', '=', id)
      .execute();
    return { ...proposal, state: 'closed' };
  }

  private async openProposalOrThrow(id: string, db: Kysely<Database> = this.db): Promise<Proposal> {
    const row = await db
      .selectFrom('forge_proposals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row)
      throw new ChangeError('UNKNOWN_PROPOSAL', `no proposal ${id}; see changeproof proposal list`);
    if (row.state !== 'open') {
      throw new ChangeError(
        'PROPOSAL_NOT_OPEN',
        `proposal ${id} is ${row.state}; open a new proposal`,
      );
    }
    return rowToProposal(row);
  }

  private async branchHead(branch: string): Promise<string> {
    try {
      const sha = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], {
        cwd: this.options.gitDir,
      });
      return sha.trim();
    } catch {
      throw new ChangeError(
        'BRANCH_UNKNOWN',
        `no branch ${branch} in the config repo; push it first`,
      );
    }
  }
}

function assertReviewable(
  proposal: Proposal,
  input: Omit<Review, 'proposal' | 'submittedAt'>,
): void {
  if (input.commit !== proposal.headCommit) {
    throw new ChangeError(
      'NOT_HEAD',
      `commit ${short(input.commit)} is not the head of proposal ${proposal.id} (${short(proposal.headCommit)}); review the head`,
    );
  }
  if (input.state === 'approved') assertIndependent(proposal, input.reviewer);
}

/** Refuses an approval by the proposal's author or its last pusher. */
export function assertIndependent(proposal: Proposal, reviewer: string): void {
  if (reviewer === proposal.author) {
    throw new ChangeError(
      'SELF_APPROVAL',
      `${reviewer} wrote proposal ${proposal.id} and cannot approve it`,
    );
  }
  if (reviewer === proposal.lastPusher) {
    throw new ChangeError(
      'LAST_PUSHER_APPROVAL',
      `${reviewer} pushed the last commit of proposal ${proposal.id} and cannot approve it`,
    );
  }
}

function mergePath(options: MergeOptions, protection: BranchProtection): MergePath {
  if (options.breakGlass) return 'break-glass';
  if (options.emergency) return 'emergency';
  return protection.requiredApprovals === 0 ? 'automatic' : 'normal';
}

async function listReviews(db: Kysely<Database>, id: string): Promise<Review[]> {
  const rows = await db
    .selectFrom('forge_reviews')
    .selectAll()
    .where('proposal', '=', id)
    .orderBy('submitted_at')
    .execute();
  return rows.map(rowToReview);
}

async function listStatuses(db: Kysely<Database>, commit: string): Promise<CommitStatus[]> {
  const rows = await db
    .selectFrom('forge_statuses')
    .selectAll()
    .where('commit_sha', '=', commit)
    .orderBy('context')
    .execute();
  return rows.map(rowToStatus);
}

function toRow(proposal: Proposal, number: number) {
  return {
    id: proposal.id,
    number,
    title: proposal.title,
    description: proposal.description,
    author: proposal.author,
    branch: proposal.branch,
    base_branch: proposal.baseBranch,
    base_commit: proposal.baseCommit,
    head_commit: proposal.headCommit,
    last_pusher: proposal.lastPusher,
    state: proposal.state,
    merge_commit: null,
    merged_by: null,
    merged_at: null,
    service: proposal.service ?? null,
    env: proposal.env ?? null,
    routine: proposal.routine ? 1 : 0,
    changed_paths: JSON.stringify(proposal.changedPaths ?? []),
    evidence: JSON.stringify(proposal.evidence ?? {}),
    created_at: proposal.createdAt,
  };
}
