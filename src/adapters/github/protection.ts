import type { ChangeproofConfig } from '../../config/schema.ts';
import { CHANGE_APPROVED_CONTEXT, RENDER_CONTEXT } from '../../embedded/forge/protection.ts';

/**
 * The branch protection and the equivalent repository ruleset the config repo's main branch
 * should carry on GitHub, derived from the environments' governance: as many approvals as the
 * strictest environment asks for, stale approvals dismissed on push, the last push approved by
 * someone else, changeproof's checks required on the latest commit, signed commits, and no force
 * pushes or deletion. GitHub enforces these before changeproof even sees the merge.
 *
 * GitHub never counts an author's own approval, so a sole on-call responder breaking glass on
 * their own change is refused there unless the ruleset names their team as a bypass actor:
 * `bypassTeamId` (GitHub's numeric team id) adds one that may bypass on pull requests only.
 */
export function githubProtection(
  config: ChangeproofConfig,
  options: { branch?: string; bypassTeamId?: number } = {},
) {
  const branch = options.branch ?? config.configRepo.branch;
  const approvals = Math.max(
    1,
    ...config.environments.map((env) =>
      Math.max(env.governance.approvals, env.governance.nonRoutineApprovals),
    ),
  );
  const contexts = [CHANGE_APPROVED_CONTEXT, RENDER_CONTEXT];
  return {
    /** Body of `PUT /repos/{owner}/{repo}/branches/{branch}/protection`. */
    branchProtection: {
      required_status_checks: { strict: true, contexts },
      enforce_admins: true,
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: approvals,
        require_last_push_approval: true,
      },
      restrictions: null,
      required_linear_history: true,
      allow_force_pushes: false,
      allow_deletions: false,
      required_conversation_resolution: true,
    },
    /** Signed commits are a separate endpoint: `POST …/protection/required_signatures`. */
    requiredSignatures: true,
    /** Body of `POST /repos/{owner}/{repo}/rulesets`: the same rules as a ruleset. */
    ruleset: {
      name: `changeproof-${branch}`,
      target: 'branch',
      enforcement: 'active',
      bypass_actors: bypassActors(options.bypassTeamId),
      conditions: { ref_name: { include: [`refs/heads/${branch}`], exclude: [] } },
      rules: [
        { type: 'deletion' },
        { type: 'non_fast_forward' },
        { type: 'required_linear_history' },
        { type: 'required_signatures' },
        {
          type: 'pull_request',
          parameters: {
            required_approving_review_count: approvals,
            dismiss_stale_reviews_on_push: true,
            require_code_owner_review: true,
            require_last_push_approval: true,
            required_review_thread_resolution: true,
          },
        },
        {
          type: 'required_status_checks',
          parameters: {
            strict_required_status_checks_policy: true,
            required_status_checks: contexts.map((context) => ({ context })),
          },
        },
      ],
    },
  };
}

/** A ruleset bypass actor for the on-call team: it may merge pull requests past the rules. */
function bypassActors(teamId: number | undefined) {
  if (teamId === undefined) return [];
  return [{ actor_id: teamId, actor_type: 'Team', bypass_mode: 'pull_request' }];
}
