import { createHash } from 'node:crypto';
import { GitRepository } from './git-repository.ts';
import { bearerOf, HttpEmulator, type EmulatedRequest } from '../http-emulator.ts';

interface PullState {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  merged_by: { login: string } | null;
  created_at: string;
  user: { login: string };
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
}

interface ReviewState {
  id: number;
  user: { login: string };
  state: string;
  body: string;
  submitted_at: string;
  commit_id: string | null;
}

/**
 * A GitHub REST emulator for one repository: pull requests, their files, reviews (attributed to
 * the token's user, as GitHub does), commit statuses and the merge endpoint as GitHub answers it:
 * 409 "Head branch was modified" when `sha` is not the head, 405 with the protection's reason
 * when approvals are missing (unless the merging login may bypass), 405 "Pull Request is not
 * mergeable" otherwise. Branches are pushed with {@link push}.
 */
export class GithubEmulator extends HttpEmulator {
  readonly branches = new Map<
    string,
    { sha: string; files: { filename: string; patch: string }[] }
  >();
  readonly pulls = new Map<number, PullState>();
  readonly reviews = new Map<number, ReviewState[]>();
  readonly statuses = new Map<string, object[]>();
  /** Protection enforced by the emulated GitHub itself: required approvals. */
  requiredApprovals = 0;
  /**
   * Logins a ruleset lets bypass the required reviews on pull requests (a bypass actor with
   * `bypass_mode: pull_request`, e.g. members of the on-call team).
   */
  readonly bypassLogins = new Set<string>();
  private clock = Date.parse('2025-03-01T09:00:00Z');
  private nextId = 1;
  /** With a bare repo, branches are real git pushes and merges move its main. */
  private readonly git?: GitRepository;

  constructor(
    readonly owner: string,
    readonly repo: string,
    /** token → login */
    readonly tokens: Record<string, string>,
    options: { gitDir?: string } = {},
  ) {
    super();
    if (options.gitDir) this.git = new GitRepository(options.gitDir);
    const base = `/repos/${owner}/${repo}`;
    this.on('POST', `${base}/pulls`, (r) => this.authed(r, (login) => this.createPull(r, login)));
    this.on('GET', `${base}/pulls`, (r) =>
      this.authed(r, () => this.page(r, [...this.pulls.values()])),
    );
    this.on('GET', `${base}/pulls/:n`, (r) =>
      this.authed(r, () => this.withPull(r, (pull) => ({ status: 200, body: pull }))),
    );
    this.on('GET', `${base}/pulls/:n/files`, (r) =>
      this.authed(r, () =>
        this.withPull(r, (pull) =>
          this.page(
            r,
            this.branchOf(pull.head.ref)?.files.map((f) => ({ ...f, status: 'modified' })) ?? [],
          ),
        ),
      ),
    );
    this.on('GET', `${base}/pulls/:n/reviews`, (r) =>
      this.authed(r, () => this.page(r, this.reviews.get(Number(r.params.n)) ?? [])),
    );
    this.on('POST', `${base}/pulls/:n/reviews`, (r) =>
      this.authed(r, (login) => this.withPull(r, (pull) => this.createReview(r, pull, login))),
    );
    this.on('PATCH', `${base}/pulls/:n`, (r) =>
      this.authed(r, () => this.withPull(r, (pull) => this.updatePull(r, pull))),
    );
    this.on('PUT', `${base}/pulls/:n/merge`, (r) =>
      this.authed(r, (login) => this.withPull(r, (pull) => this.mergePull(r, pull, login))),
    );
    this.on('POST', `${base}/statuses/:sha`, (r) => this.authed(r, () => this.createStatus(r)));
    this.on('GET', `${base}/commits/:sha/statuses`, (r) =>
      this.authed(r, () => this.page(r, [...(this.statuses.get(r.params.sha!) ?? [])].reverse())),
    );
  }

  /** Pushes `branch` to a new commit changing `files`; moves the head of its open pull request. */
  push(branch: string, files: { filename: string; patch: string }[]): string {
    const sha = createHash('sha1')
      .update(`${branch}:${this.nextId++}:${JSON.stringify(files)}`)
      .digest('hex');
    this.branches.set(branch, { sha, files });
    for (const pull of this.pulls.values()) {
      if (pull.head.ref === branch && pull.state === 'open') {
        pull.head.sha = sha;
        this.dismissStale(pull.number);
      }
    }
    return sha;
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private authed(
    request: EmulatedRequest,
    handler: (login: string) => { status: number; body?: unknown },
  ) {
    const login = this.tokens[bearerOf(request) ?? ''];
    if (!login) return { status: 401, body: { message: 'Bad credentials' } };
    return handler(login);
  }

  private page(request: EmulatedRequest, items: unknown[]) {
    const perPage = Number(request.query.get('per_page') ?? 30);
    const page = Number(request.query.get('page') ?? 1);
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage) };
  }

  private withPull(
    request: EmulatedRequest,
    handler: (pull: PullState) => { status: number; body?: unknown },
  ) {
    const pull = this.pulls.get(Number(request.params.n));
    if (!pull) return { status: 404, body: { message: 'Not Found' } };
    this.followGitHead(pull);
    return handler(pull);
  }

  /** A branch's head and changed files: from push(), or from the bare repo against main. */
  private branchOf(ref: string) {
    return this.git ? this.git.branch(ref, 'main') : this.branches.get(ref);
  }

  /** With a bare repo, a push to the head branch moves the pull's head as on GitHub. */
  private followGitHead(pull: PullState): void {
    if (!this.git || pull.state !== 'open') return;
    const head = this.git.branch(pull.head.ref, 'main');
    if (!head || head.sha === pull.head.sha) return;
    pull.head.sha = head.sha;
    this.dismissStale(pull.number);
  }

  private dismissStale(pull: number): void {
    // dismiss_stale_reviews: approvals of the old head stop counting.
    for (const review of this.reviews.get(pull) ?? []) {
      if (review.state === 'APPROVED') review.state = 'DISMISSED';
    }
  }

  private updatePull(request: EmulatedRequest, pull: PullState) {
    const body = request.body as { state?: string; title?: string };
    if (body.state === 'closed' && !pull.merged) pull.state = 'closed';
    if (body.title) pull.title = body.title;
    return { status: 200, body: pull };
  }

  private createPull(request: EmulatedRequest, login: string) {
    const body = request.body as { title?: string; body?: string; head?: string; base?: string };
    const head = this.branchOf(body.head ?? '');
    if (!body.title || !head) return { status: 422, body: { message: 'Validation Failed' } };
    const number = this.pulls.size + 1;
    const pull: PullState = {
      number,
      title: body.title,
      body: body.body ?? '',
      state: 'open',
      merged: false,
      merged_at: null,
      merge_commit_sha: null,
      merged_by: null,
      created_at: this.now(),
      user: { login },
      head: { ref: body.head!, sha: head.sha },
      base: {
        ref: body.base ?? 'main',
        sha: this.git?.head(body.base ?? 'main') ?? 'b'.repeat(40),
      },
    };
    this.pulls.set(number, pull);
    return { status: 201, body: pull };
  }

  private createReview(request: EmulatedRequest, pull: PullState, login: string) {
    const body = request.body as { event?: string; commit_id?: string; body?: string };
    if (login === pull.user.login && body.event !== 'COMMENT') {
      return { status: 422, body: { message: 'Can not approve your own pull request' } };
    }
    const states: Record<string, string> = {
      APPROVE: 'APPROVED',
      REQUEST_CHANGES: 'CHANGES_REQUESTED',
      COMMENT: 'COMMENTED',
    };
    const review: ReviewState = {
      id: this.nextId++,
      user: { login },
      state: states[body.event ?? ''] ?? 'PENDING',
      body: body.body ?? '',
      submitted_at: this.now(),
      commit_id: body.commit_id ?? pull.head.sha,
    };
    this.reviews.set(pull.number, [...(this.reviews.get(pull.number) ?? []), review]);
    return { status: 200, body: review };
  }

  private mergePull(request: EmulatedRequest, pull: PullState, login: string) {
    const body = request.body as { sha?: string };
    if (pull.state !== 'open') return refused(405, 'Pull Request is not mergeable');
    if (body.sha && body.sha !== pull.head.sha)
      return refused(409, 'Head branch was modified. Review and try the merge again.');
    if (!this.bypassLogins.has(login) && this.approvalsOf(pull) < this.requiredApprovals)
      return refused(405, reviewsRequired(this.requiredApprovals));
    const sha = this.git
      ? this.git.mergeCommit(pull.base.ref, pull.head.sha, `Merge pull request #${pull.number}`)
      : createHash('sha1').update(`merge:${pull.number}`).digest('hex');
    if (!sha) return refused(405, 'Pull Request is not mergeable');
    Object.assign(pull, {
      state: 'closed',
      merged: true,
      merged_at: this.now(),
      merge_commit_sha: sha,
      merged_by: { login },
    });
    return {
      status: 200,
      body: { sha, merged: true, message: 'Pull Request successfully merged' },
    };
  }

  /** Approvals of the current head: GitHub never counts the author's own. */
  private approvalsOf(pull: PullState): number {
    return (this.reviews.get(pull.number) ?? []).filter(
      (r) =>
        r.state === 'APPROVED' && r.commit_id === pull.head.sha && r.user.login !== pull.user.login,
    ).length;
  }

  private createStatus(request: EmulatedRequest) {
    const body = request.body as {
      state?: string;
      context?: string;
      description?: string;
      target_url?: string;
    };
    if (!['pending', 'success', 'failure', 'error'].includes(body.state ?? ''))
      return { status: 422, body: { message: 'Validation Failed' } };
    const status = {
      state: body.state,
      context: body.context ?? 'default',
      description: body.description ?? null,
      target_url: body.target_url ?? null,
      updated_at: this.now(),
    };
    this.statuses.set(request.params.sha!, [
      ...(this.statuses.get(request.params.sha!) ?? []),
      status,
    ]);
    return { status: 201, body: status };
  }

  /** Dismisses a review after the fact, as a repository admin could: state DISMISSED, no commit. */
  dismiss(pull: number, reviewer: string): void {
    for (const review of this.reviews.get(pull) ?? []) {
      if (review.user.login === reviewer)
        Object.assign(review, { state: 'DISMISSED', commit_id: null });
    }
  }
}

/** A refusal of the merge endpoint, shaped as GitHub's error bodies are. */
function refused(status: number, message: string) {
  return {
    status,
    body: {
      message,
      documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
    },
  };
}

/** GitHub's wording when branch protection or a ruleset wants more approving reviews. */
function reviewsRequired(count: number): string {
  const reviews = count === 1 ? 'approving review is' : 'approving reviews are';
  return `At least ${count} ${reviews} required by reviewers with write access.`;
}
