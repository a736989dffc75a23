import { ChangeproofError } from '../../errors.ts';

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
  | 'REJECTED';

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
 * connections) are {@link UpstreamError}s instead, because they are not the request's fault.
 */
export class KubeError extends ChangeproofError<KubeErrorCode> {
  constructor(
    code: KubeErrorCode,
    message: string,
    options: { cause?: unknown; reason?: string; status?: number } = {},
  ) {
    super(code, message, {
      category:
        code === 'NOT_FOUND' || code === 'UNKNOWN_KIND'
          ? 'not-found'
          : code === 'FORBIDDEN' || code === 'UNAUTHORIZED'
            ? 'forbidden'
            : code === 'KUBECONFIG_INVALID'
              ? 'usage'
              : 'refused',
      cause: options.cause,
      details: { reason: options.reason, status: options.status },
    });
  }

  /** Maps a Status reason (e.g. `Conflict`) to our code; unknown reasons are `REJECTED`. */
  static fromStatus(status: number, reason: string | undefined, message: string): KubeError {
    const code = (reason && codeOfReason[reason]) || (status === 404 ? 'NOT_FOUND' : 'REJECTED');
    return new KubeError(code, message, { reason, status });
  }
}
