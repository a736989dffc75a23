import { ChangeproofError, type ErrorCategory } from '../../errors.ts';

/** Why the cluster refused a request, from the Kubernetes `Status` reason or our own checks. */
export type KubeErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INVALID'
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'UNAUTHORIZED'
  | 'GONE'
  | 'UNKNOWN_KIND'
  | 'NAMESPACE_REQUIRED'
  | 'KUBECONFIG_INVALID'
  /** The kubeconfig's credential plugin failed, timed out or printed no credential. */
  | 'CREDENTIAL_PLUGIN_FAILED'
  | 'REJECTED';

const categoryOfCode: Partial<Record<KubeErrorCode, ErrorCategory>> = {
  NOT_FOUND: 'not-found',
  UNKNOWN_KIND: 'not-found',
  FORBIDDEN: 'forbidden',
  UNAUTHORIZED: 'forbidden',
  KUBECONFIG_INVALID: 'usage',
  // The plugin talks to the cloud's identity service: its failure is an outside system's.
  CREDENTIAL_PLUGIN_FAILED: 'upstream',
};

const codeOfReason: Record<string, KubeErrorCode> = {
  NotFound: 'NOT_FOUND',
  AlreadyExists: 'ALREADY_EXISTS',
  Conflict: 'CONFLICT',
  Invalid: 'INVALID',
  BadRequest: 'BAD_REQUEST',
  Forbidden: 'FORBIDDEN',
  Unauthorized: 'UNAUTHORIZED',
  Gone: 'GONE',
  Expired: 'GONE',
};

/**
 * A request the cluster refused (4xx). `reason` is the API server's Status reason and `status`
 * the HTTP code, both kept for the ledger. Faults of the cluster itself (5xx, timeouts, refused
 * connections) are {@link UpstreamError}s instead, because they are not the request's fault; a
 * failed credential plugin is a KubeError in the upstream category (exit 3).
 */
export class KubeError extends ChangeproofError<KubeErrorCode> {
  constructor(
    code: KubeErrorCode,
    message: string,
    options: {
      cause?: unknown;
      reason?: string;
      status?: number;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(code, message, {
      category: categoryOfCode[code] ?? 'refused',
      cause: options.cause,
      details: { reason: options.reason, status: options.status, ...options.details },
    });
  }

  /** Maps a Status reason (e.g. `Conflict`) to our code; unknown reasons are `REJECTED`. */
  static fromStatus(status: number, reason: string | undefined, message: string): KubeError {
    const code = (reason && codeOfReason[reason]) || (status === 404 ? 'NOT_FOUND' : 'REJECTED');
    return new KubeError(code, message, { reason, status });
  }
}
