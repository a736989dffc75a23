/**
 * The error model. Every failure changeproof reports is a {@link ChangeproofError} with a stable
 * `code` (asserted by tests) and a `category` that decides the exit code and HTTP status in one
 * place (src/cli/exit-codes.ts and the server's error handler). Messages are one short line that
 * says what to do.
 */
export type ErrorCategory =
  /** the caller asked for something malformed: exit 2, HTTP 400 */
  | 'usage'
  /** a rule refused the request or a check failed: exit 1, HTTP 409/422 */
  | 'refused'
  /** the caller is not who they must be: exit 1, HTTP 401/403 */
  | 'unauthenticated'
  | 'forbidden'
  /** the thing asked for does not exist: exit 1, HTTP 404 */
  | 'not-found'
  /** an outside system (registry, forge, change system, vault, cluster) is unavailable: exit 3 */
  | 'upstream'
  /** a bug or a broken local resource (corrupt database, unreadable key): exit 1, HTTP 500 */
  | 'internal';

export class ChangeproofError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly category: ErrorCategory;
  /** Structured facts for logs and the ledger; never secrets. */
  readonly details: Record<string, unknown>;

  constructor(
    code: Code,
    message: string,
    options: { category?: ErrorCategory; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = options.category ?? 'refused';
    this.details = options.details ?? {};
  }
}

export class UsageError extends ChangeproofError<'USAGE'> {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('USAGE', message, { category: 'usage', details });
  }
}

/** An outside system failed (5xx, timeout, refused connection). Never turned into a pass. */
export class UpstreamError extends ChangeproofError<'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_REJECTED'> {
  readonly system: string;
  constructor(
    system: string,
    message: string,
    options: {
      cause?: unknown;
      code?: 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_REJECTED';
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(options.code ?? 'UPSTREAM_UNAVAILABLE', message, {
      category: 'upstream',
      cause: options.cause,
      details: { system, ...options.details },
    });
    this.system = system;
  }
}

export function isChangeproofError(error: unknown): error is ChangeproofError {
  return error instanceof ChangeproofError;
}

/** The message of any thrown value, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
