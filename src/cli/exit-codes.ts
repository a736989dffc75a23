import { isChangeproofError, type ErrorCategory } from '../errors.ts';

/** The CLI's exit codes: documented in the README and relied on by CI pipelines. */
export const ExitCode = {
  ok: 0,
  refused: 1,
  usage: 2,
  upstream: 3,
} as const;

const BY_CATEGORY: Record<ErrorCategory, number> = {
  usage: ExitCode.usage,
  refused: ExitCode.refused,
  unauthenticated: ExitCode.refused,
  forbidden: ExitCode.refused,
  'not-found': ExitCode.refused,
  upstream: ExitCode.upstream,
  internal: ExitCode.refused,
};

export function exitCodeFor(error: unknown): number {
  return isChangeproofError(error) ? BY_CATEGORY[error.category] : ExitCode.refused;
}
