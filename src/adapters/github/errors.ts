import { ChangeproofError } from '../../errors.ts';

export type GithubErrorCode =
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'WEBHOOK_INVALID'
  | 'GITHUB_UNAUTHORIZED'
  | 'GITHUB_REFUSED'
  | 'MERGE_REFUSED'
  | 'REVIEWER_MISMATCH';

/** A refusal by or about GitHub that is not an outage (outages are UpstreamErrors). */
export class GithubError extends ChangeproofError<GithubErrorCode> {}
