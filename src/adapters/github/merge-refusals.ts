import { ChangeError } from '../../change/errors.ts';
import type { MergeOptions } from '../../embedded/forge/index.ts';
import { GithubError } from './errors.ts';

/** What GitHub's merge endpoint answered when it did not merge. */
export interface MergeRefusal {
  status: number;
  /** The `message` of GitHub's answer, e.g. "Pull Request is not mergeable". */
  message: string;
  /** The error the API client raised, kept as the cause. */
  cause?: unknown;
}

/*
 * GitHub's merge endpoint (`PUT /repos/{owner}/{repo}/pulls/{n}/merge`) documents 409 "Head
 * branch was modified" when `sha` no longer names the head, and 405 "Pull Request is not
 * mergeable" otherwise. In practice the 405 carries the reason in its message: branch protection
 * or a ruleset wanting reviews ("At least 1 approving review is required by reviewers with write
 * access.") or checks ("Required status check … is expected."), a base branch that moved during
 * the merge ("Base branch was modified."), or a conflict. Each gets the code the embedded forge
 * would give the same situation, so callers and audits read one vocabulary.
 */
interface RefusalRule {
  pattern: RegExp;
  code: 'APPROVALS_REQUIRED' | 'CHECKS_REQUIRED' | 'MAIN_MOVED';
  message: (id: string, options: MergeOptions, github: string) => string;
}

/** The 405 answers told apart by their message, first match wins. */
const refusalRules: RefusalRule[] = [
  {
    pattern: /approving review|review is required|reviews are required|code owner/i,
    code: 'APPROVALS_REQUIRED',
    message: (id, options) => reviewMessage(id, options),
  },
  {
    pattern: /status check/i,
    code: 'CHECKS_REQUIRED',
    message: (id, _options, github) =>
      `github's branch protection wants green checks on proposal ${id} (${github}); wait for them or rerun the gate`,
  },
  {
    pattern: /base branch was modified/i,
    code: 'MAIN_MOVED',
    message: (id) => `main moved while github merged proposal ${id}; try the merge again`,
  },
  {
    pattern: /not mergeable/i,
    code: 'MAIN_MOVED',
    message: (id) =>
      `github cannot merge proposal ${id} into main cleanly; update the branch and review again`,
  },
];

/**
 * Turns GitHub's refusal to merge proposal `id` into a changeproof error with a stable code and a
 * one-line message saying what to do; undefined when the answer is not a merge refusal.
 *
 * @example
 * mergeRefusalError('7', { status: 405, message: 'At least 1 approving review is required…' }, {})
 * // ChangeError APPROVALS_REQUIRED
 */
export function mergeRefusalError(
  id: string,
  refusal: MergeRefusal,
  options: MergeOptions,
): ChangeError | GithubError | undefined {
  const details = { upstream: 'github', status: refusal.status, message: refusal.message };
  const cause = refusal.cause;
  if (refusal.status === 409) {
    const message = `proposal ${id} received new commits; review them first`;
    return new ChangeError('NOT_HEAD', message, { details, cause });
  }
  if (refusal.status !== 405) return undefined;

  const rule = refusalRules.find((candidate) => candidate.pattern.test(refusal.message));
  if (rule) {
    const message = rule.message(id, options, refusal.message);
    return new ChangeError(rule.code, message, { details, cause });
  }
  return new GithubError(
    'MERGE_REFUSED',
    `github refused the merge of proposal ${id} (${refusal.message || 'HTTP 405'}); check the branch protection and rulesets of main`,
    { category: 'refused', details, cause },
  );
}

/**
 * GitHub counts only approvals by someone other than the author with write access, so a sole
 * responder breaking glass on their own change is refused unless a ruleset lets their team
 * bypass it; changeproof's own protection had already let the merge through.
 */
function reviewMessage(id: string, options: MergeOptions): string {
  if (options.breakGlass && options.selfApproved) {
    return `github's branch protection requires an approving review on proposal ${id}; a break-glass self-merge on GitHub needs the on-call team as a ruleset bypass actor (changeproof github protection --bypass-team-id <id>)`;
  }
  return `github's branch protection requires an approving review on proposal ${id} by a reviewer with write access; ask one to approve it on GitHub`;
}
