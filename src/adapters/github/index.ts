import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { GovernedForge } from '../../change/context.ts';
import { ChangeError } from '../../change/errors.ts';
import { refusing } from '../../change/refusals.ts';
import type { ChangeEvidence } from '../../domain/change-system.ts';
import { evidenceOf, recordEvidence } from '../../domain/evidence.ts';
import type { CommitStatus, OpenProposalRequest, Proposal, Review } from '../../domain/forge.ts';
import type { ForgePolicy, MergeOptions, MergePath } from '../../embedded/forge/index.ts';
import { assertIndependent } from '../../embedded/forge/index.ts';
import { protectionViolations } from '../../embedded/forge/protection.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { rowToEntry } from '../../ledger/rows.ts';
import type { Database } from '../../store/schema.ts';
import { snapshotApprovals } from './approvals.ts';
import { GithubApi, type GithubApiOptions } from './api.ts';
import { GithubError } from './errors.ts';
import { mergeRefusalError } from './merge-refusals.ts';
import { summarizeChangedFiles } from './paths.ts';
import {
  mergeResultSchema,
  pullFileSchema,
  pullRequestSchema,
  reviewEvents,
  reviewSchema,
  statusSchema,
  type GithubReview,
  type PullRequest,
} from './schema.ts';

export { githubProtection } from './protection.ts';
export { snapshotApprovals, type ApprovalSnapshot } from './approvals.ts';
export { GithubWebhookReceiver, signWebhook } from './webhook.ts';

export interface GithubForgeOptions extends GithubApiOptions {
  /** Where pipelines push proposal branches (the clone URL). */
  cloneUrl: string;
  ledger: Ledger;
  /** The same governance the embedded forge is given: protection, roles, change hooks. */
  policy: ForgePolicy;
  /** GitHub login → changeproof user; the identity by default. */
  userOf?: (login: string) => string;
}

const EVIDENCE_MARK = /<!-- changeproof:evidence (\{.*?\}) -->/s;

/**
 * The connected-mode forge: proposals are pull requests on GitHub, reviews and commit statuses
 * are GitHub's, and merges go through GitHub's merge API after changeproof has checked the same
 * branch protection the embedded forge enforces. What happened is written to the ledger as it
 * happens, including the approvals at merge, because GitHub's reviews can change afterwards.
 */
export class GithubForge implements GovernedForge {
  readonly repositoryUrl: string;
  private readonly api: GithubApi;
  private readonly userOf: (login: string) => string;

  constructor(private readonly options: GithubForgeOptions) {
    this.repositoryUrl = options.cloneUrl;
    this.api = new GithubApi(options);
    this.userOf = options.userOf ?? ((login) => login);
  }

  async openProposal(request: OpenProposalRequest): Promise<Proposal> {
    const pull = await this.api.call(pullRequestSchema, {
      method: 'POST',
      path: this.api.repoPath('/pulls'),
      body: {
        title: request.title,
        body: withEvidence(request.description, request.evidence),
        head: request.branch,
        base: request.baseBranch ?? 'main',
      },
      actor: request.author,
    });
    const proposal = await this.toProposal(pull);
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

  async getProposal(id: string): Promise<Proposal> {
    return this.toProposal(await this.pull(id));
  }

  async listProposals(filter: { state?: Proposal['state'] } = {}): Promise<Proposal[]> {
    const pulls = await this.api.listAll(pullRequestSchema, this.api.repoPath('/pulls?state=all'));
    const proposals = await Promise.all(pulls.map((pull) => this.toProposal(pull)));
    return filter.state ? proposals.filter((p) => p.state === filter.state) : proposals;
  }

  /**
   * The id of the open proposal whose head is `branch`, from GitHub's pull request list alone:
   * a push webhook needs only that, not every proposal's files and ledger history.
   */
  async openProposalOnBranch(branch: string): Promise<string | undefined> {
    const pulls = await this.api.listAll(pullRequestSchema, this.api.repoPath('/pulls?state=open'));
    const open = pulls.find(
      (pull) =>
        pull.head.ref === branch && pull.state === 'open' && !pull.merged && !pull.merged_at,
    );
    return open && String(open.number);
  }

  async recordPush(id: string, pusher: string): Promise<Proposal> {
    const proposal = await this.getProposal(id);
    const reviews = await this.listReviews(id);
    await recordEvidence(this.options.ledger, 'proposal.pushed', `proposal:${id}`, pusher, {
      proposal: id,
      pusher,
      headCommit: proposal.headCommit,
      // GitHub dismisses stale approvals itself (dismiss_stale_reviews); these no longer count.
      dismissedApprovals: reviews
        .filter((r) => r.state === 'approved' && r.commit !== proposal.headCommit)
        .map((r) => r.reviewer),
    });
    const pushed = { ...proposal, lastPusher: pusher };
    await this.options.policy.afterPush?.(pushed);
    return pushed;
  }

  async review(id: string, input: Omit<Review, 'proposal' | 'submittedAt'>): Promise<Review> {
    const refusal = { proposal: id, actor: input.reviewer, action: `review:${input.state}` };
    // Refused before GitHub is asked, and recorded as the embedded forge records them.
    await refusing(this.options.ledger, refusal, async () => {
      const proposal = await this.getProposal(id);
      if (input.state === 'dismissed') {
        throw new ChangeError('NOT_HEAD', 'dismiss reviews on GitHub');
      }
      if (input.commit !== proposal.headCommit) {
        throw new ChangeError(
          'NOT_HEAD',
          `commit ${input.commit.slice(0, 12)} is not the head of proposal ${id}; review the head`,
        );
      }
      if (input.state === 'approved') assertIndependent(proposal, input.reviewer);
    });
    const posted = await this.api.call(reviewSchema, {
      method: 'POST',
      path: this.api.repoPath(`/pulls/${id}/reviews`),
      // A dismissal was refused above, so the state is one GitHub reviews can carry.
      body: {
        commit_id: input.commit,
        event: reviewEvents[input.state as keyof typeof reviewEvents],
        body: input.body ?? '',
      },
      actor: input.reviewer,
    });
    const review = toReview(id, posted, this.userOf);
    if (review.reviewer !== input.reviewer) {
      throw new GithubError(
        'REVIEWER_MISMATCH',
        `the GitHub token for ${input.reviewer} belongs to ${review.reviewer}; give each reviewer their own token`,
      );
    }
    await recordEvidence(
      this.options.ledger,
      'proposal.reviewed',
      `proposal:${id}`,
      review.reviewer,
      {
        proposal: id,
        reviewer: review.reviewer,
        roles: this.options.policy.rolesOf(review.reviewer),
        state: input.state as 'approved' | 'changes_requested' | 'commented',
        commit: review.commit,
      },
    );
    return review;
  }

  async listReviews(id: string): Promise<Review[]> {
    const reviews = await this.api.listAll(reviewSchema, this.api.repoPath(`/pulls/${id}/reviews`));
    return reviews.map((review) => toReview(id, review, this.userOf));
  }

  async setStatus(status: Omit<CommitStatus, 'updatedAt'>): Promise<CommitStatus> {
    const posted = await this.api.call(statusSchema, {
      method: 'POST',
      path: this.api.repoPath(`/statuses/${status.commit}`),
      body: {
        state: status.state,
        context: status.context,
        description: status.description.slice(0, 140),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      },
      // Setting the same status twice is harmless, so an outage may be retried.
      retry: true,
    });
    return toStatus(status.commit, posted);
  }

  async listStatuses(commit: string): Promise<CommitStatus[]> {
    const statuses = await this.api.listAll(
      statusSchema,
      this.api.repoPath(`/commits/${commit}/statuses`),
    );
    // GitHub lists newest first; the first of each context is its current state.
    const latest = new Map<string, CommitStatus>();
    for (const status of statuses) {
      if (!latest.has(status.context)) latest.set(status.context, toStatus(commit, status));
    }
    return [...latest.values()];
  }

  // The gate decides inside a workspace transaction; GitHub holds these records, so the
  // transaction serialises changeproof's own decisions and the reads go to GitHub.
  async getProposalIn(db: Kysely<Database>, id: string): Promise<Proposal> {
    // The ledger is read on `db`: inside the caller's transaction the store has no other handle.
    return this.toProposal(await this.pull(id), db);
  }

  listReviewsIn(_db: Kysely<Database>, id: string): Promise<Review[]> {
    return this.listReviews(id);
  }

  listStatusesIn(_db: Kysely<Database>, commit: string): Promise<CommitStatus[]> {
    return this.listStatuses(commit);
  }

  writeStatus(
    _db: Kysely<Database>,
    status: Omit<CommitStatus, 'updatedAt'>,
  ): Promise<CommitStatus> {
    return this.setStatus(status);
  }

  /** Closes the pull request without merging it. */
  async closeProposal(id: string, actor: string): Promise<Proposal> {
    const proposal = await this.getProposal(id);
    if (proposal.state !== 'open')
      throw new ChangeError('PROPOSAL_NOT_OPEN', `proposal ${id} is ${proposal.state}`);
    const pull = await this.api.call(pullRequestSchema, {
      method: 'PATCH',
      path: this.api.repoPath(`/pulls/${id}`),
      body: { state: 'closed' },
      actor,
    });
    return this.toProposal(pull);
  }

  async merge(id: string, actor: string, options: MergeOptions = {}): Promise<Proposal> {
    try {
      return await this.protectedMerge(id, actor, options);
    } catch (error) {
      if (error instanceof ChangeError || isMergeRefusal(error)) {
        await recordEvidence(this.options.ledger, 'proposal.refused', `proposal:${id}`, actor, {
          proposal: id,
          actor,
          action: 'merge',
          code: error.code,
          reason: error.message,
        });
      }
      throw error;
    }
  }

  private async protectedMerge(
    id: string,
    actor: string,
    options: MergeOptions,
  ): Promise<Proposal> {
    const proposal = await this.getProposal(id);
    if (proposal.state !== 'open')
      throw new ChangeError('PROPOSAL_NOT_OPEN', `proposal ${id} is ${proposal.state}`);
    const protection = await this.options.policy.protectionFor(proposal, options);
    const reviews = await this.listReviews(id);
    const statuses = await this.listStatuses(proposal.headCommit);
    const [violation] = protectionViolations(proposal, reviews, statuses, protection);
    if (violation) throw new ChangeError(violation.code, `cannot merge: ${violation.message}`);

    const merged = await this.mergePull(id, proposal.headCommit, actor, options);
    // Snapshot after the merge: what GitHub held when it accepted the merge of exactly this head.
    const snapshot = snapshotApprovals(proposal, await this.listReviews(id));
    const result: Proposal = {
      ...proposal,
      state: 'merged',
      mergeCommit: merged.sha,
      mergedBy: actor,
      mergedAt: new Date().toISOString(),
    };
    await this.recordMerge(
      result,
      actor,
      snapshot.approvals,
      mergePath(options, protection.requiredApprovals),
    );
    await this.options.policy.afterMerge?.(
      result,
      mergePath(options, protection.requiredApprovals),
    );
    return result;
  }

  private async mergePull(id: string, head: string, actor: string, options: MergeOptions) {
    try {
      // `sha` makes GitHub refuse when the branch moved after the approvals were checked.
      return await this.api.call(mergeResultSchema, {
        method: 'PUT',
        path: this.api.repoPath(`/pulls/${id}/merge`),
        body: { sha: head, merge_method: 'merge' },
        actor,
        retry: false,
      });
    } catch (error) {
      if (!(error instanceof GithubError) || error.code !== 'GITHUB_REFUSED') throw error;
      const refusal = {
        status: Number(error.details.status),
        message: String(error.details.message ?? ''),
        cause: error,
      };
      throw mergeRefusalError(id, refusal, options) ?? error;
    }
  }

  /** Writes `proposal.merged` with the snapshot of approvals (also used for webhook merges). */
  async recordMerge(
    proposal: Proposal,
    actor: string,
    approvals: { reviewer: string; commit: string; at: string }[],
    path: MergePath,
  ): Promise<void> {
    const change = await this.options.policy.changeFor?.(proposal);
    await recordEvidence(this.options.ledger, 'proposal.merged', `proposal:${proposal.id}`, actor, {
      proposal: proposal.id,
      service: proposal.service ?? '',
      env: proposal.env ?? '',
      headCommit: proposal.headCommit,
      mergeCommit: proposal.mergeCommit ?? proposal.headCommit,
      mergedBy: actor,
      author: proposal.author,
      lastPusher: proposal.lastPusher,
      approvals: approvals.map((a) => ({ ...a, roles: this.options.policy.rolesOf(a.reviewer) })),
      ...(change ? { change } : {}),
      path,
    });
  }

  private async pull(id: string): Promise<PullRequest> {
    if (!/^\d+$/.test(id))
      throw new ChangeError(
        'UNKNOWN_PROPOSAL',
        `proposal ids on GitHub are pull request numbers, not ${id}`,
      );
    return this.api.call(pullRequestSchema, {
      method: 'GET',
      path: this.api.repoPath(`/pulls/${id}`),
    });
  }

  private async toProposal(pull: PullRequest, db?: Kysely<Database>): Promise<Proposal> {
    const id = String(pull.number);
    const files = await this.api.listAll(pullFileSchema, this.api.repoPath(`/pulls/${id}/files`));
    const summary = summarizeChangedFiles(files);
    const author = this.userOf(pull.user.login);
    const evidence = evidenceFrom(pull.body);
    return {
      id,
      title: pull.title,
      description: (pull.body ?? '').replace(EVIDENCE_MARK, '').trim(),
      author,
      branch: pull.head.ref,
      baseBranch: pull.base.ref,
      baseCommit: pull.base.sha,
      headCommit: pull.head.sha,
      lastPusher: (await this.lastPusher(id, pull.head.sha, db)) ?? author,
      state: pull.merged || pull.merged_at ? 'merged' : pull.state === 'open' ? 'open' : 'closed',
      createdAt: pull.created_at,
      routine: summary.routine,
      changedPaths: files.map((f) => f.filename),
      ...(summary.service ? { service: summary.service } : {}),
      ...(summary.env ? { env: summary.env } : {}),
      ...(evidence ? { evidence } : {}),
      ...(pull.merge_commit_sha && pull.merged_at
        ? { mergeCommit: pull.merge_commit_sha, mergedAt: pull.merged_at }
        : {}),
      ...(pull.merged_by ? { mergedBy: this.userOf(pull.merged_by.login) } : {}),
    };
  }

  /** The last pusher as the ledger saw it (push webhooks and recorded pushes). */
  private async lastPusher(
    id: string,
    head: string,
    db?: Kysely<Database>,
  ): Promise<string | undefined> {
    const query = { kind: 'proposal.pushed', subject: `proposal:${id}` };
    const pushes = db
      ? (
          await db
            .selectFrom('ledger_entries')
            .selectAll()
            .where('kind', '=', query.kind)
            .where('subject', '=', query.subject)
            .orderBy('seq')
            .execute()
        ).map(rowToEntry)
      : await this.options.ledger.list(query);
    const last = pushes
      .map((entry) => evidenceOf(entry, 'proposal.pushed'))
      .filter((p) => p?.headCommit === head)
      .at(-1);
    return last?.pusher;
  }
}

function withEvidence(description: string, evidence?: ChangeEvidence): string {
  return evidence
    ? `${description}\n\n<!-- changeproof:evidence ${JSON.stringify(evidence)} -->`
    : description;
}

const evidenceSchema = z.object({
  artifact: z.string().optional(),
  sbomDigest: z.string().optional(),
  signer: z.string().optional(),
  scanVerdict: z.string().optional(),
});

function evidenceFrom(body: string | null | undefined): ChangeEvidence | undefined {
  const match = EVIDENCE_MARK.exec(body ?? '');
  if (!match) return undefined;
  try {
    const parsed = evidenceSchema.safeParse(JSON.parse(match[1]!));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const reviewStates: Record<string, Review['state']> = {
  APPROVED: 'approved',
  CHANGES_REQUESTED: 'changes_requested',
  COMMENTED: 'commented',
  DISMISSED: 'dismissed',
};

/** A GitHub review in the port's terms (a pending or unknown state reads as a comment). */
export function toReview(
  proposal: string,
  review: GithubReview,
  userOf: (login: string) => string,
): Review {
  return {
    proposal,
    reviewer: userOf(review.user?.login ?? 'ghost'),
    state: reviewStates[review.state] ?? 'commented',
    commit: review.commit_id ?? '',
    ...(review.body ? { body: review.body } : {}),
    submittedAt: review.submitted_at ?? '',
  };
}

function toStatus(commit: string, status: z.infer<typeof statusSchema>): CommitStatus {
  return {
    commit,
    context: status.context,
    state: status.state,
    description: status.description ?? '',
    ...(status.target_url ? { targetUrl: status.target_url } : {}),
    updatedAt: status.updated_at,
  };
}

function mergePath(options: MergeOptions, requiredApprovals: number): MergePath {
  if (options.breakGlass) return 'break-glass';
  if (options.emergency) return 'emergency';
  return requiredApprovals === 0 ? 'automatic' : 'normal';
}

/** A refusal by GitHub's merge endpoint that no changeproof code names: recorded all the same. */
function isMergeRefusal(error: unknown): error is GithubError {
  return error instanceof GithubError && error.code === 'MERGE_REFUSED';
}
