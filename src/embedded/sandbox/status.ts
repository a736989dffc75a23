import { ChangeproofError } from '../../errors.ts';

/** The `reason` values a Kubernetes API server puts in a failure `Status`. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError'
  | 'Timeout';

const httpCodeOf: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  Timeout: 504,
};

/** One cause inside `Status.details.causes`, e.g. the invalid field of an `Invalid` status. */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** What `Status.details` names: the object the failure is about. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/**
 * A request the sandbox refuses. The `code` is the Kubernetes Status reason, so that clients
 * (kubectl, client-go) print their usual messages; {@link statusOf} renders it.
 */
export class SandboxApiError extends ChangeproofError<StatusReason> {
  readonly httpCode: number;
  readonly statusDetails: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails, code?: number) {
    super(reason, message, { category: categoryOf(reason) });
    this.httpCode = code ?? httpCodeOf[reason];
    this.statusDetails = details;
  }
}

function categoryOf(reason: StatusReason): ChangeproofError['category'] {
  if (reason === 'NotFound') return 'not-found';
  if (reason === 'Unauthorized') return 'unauthenticated';
  if (reason === 'Forbidden') return 'forbidden';
  if (reason === 'InternalError' || reason === 'Timeout') return 'internal';
  return 'usage';
}

/** A `meta.k8s.io/v1` Status object for a failed request. */
export function statusOf(error: SandboxApiError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.code,
    ...(error.statusDetails ? { details: error.statusDetails } : {}),
    code: error.httpCode,
  };
}

/** The Status returned for a successful delete of an object without a body to return. */
export function successStatus(details: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** `deployments.apps "web"` — how the API server names an object in messages. */
export function qualifiedName(resource: string, group: string, name: string): string {
  return `${group ? `${resource}.${group}` : resource} "${name}"`;
}

export function notFound(resource: string, group: string, name: string): SandboxApiError {
  return new SandboxApiError('NotFound', `${qualifiedName(resource, group, name)} not found`, {
    name,
    group,
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): SandboxApiError {
  const message = `${qualifiedName(resource, group, name)} already exists`;
  return new SandboxApiError('AlreadyExists', message, { name, group, kind: resource });
}

/** The optimistic-concurrency failure clients retry on. */
export function conflict(resource: string, group: string, name: string): SandboxApiError {
  const message =
    `Operation cannot be fulfilled on ${group ? `${resource}.${group}` : resource} "${name}": ` +
    'the object has been modified; please apply your changes to the latest version and try again';
  return new SandboxApiError('Conflict', message, { name, group, kind: resource });
}

/** An `Invalid` (422) Status naming each bad field, as the API server's validation does. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: StatusCause[],
): SandboxApiError {
  const summary = causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ');
  const subject = `${group ? `${kind}.${group}` : kind} "${name}"`;
  const message = `${subject} is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`;
  return new SandboxApiError('Invalid', message, { name, group, kind, causes });
}

export function badRequest(message: string): SandboxApiError {
  return new SandboxApiError('BadRequest', message);
}

/** The 404 for a path the server does not serve (unknown group version or resource). */
export function pathNotFound(): SandboxApiError {
  return new SandboxApiError('NotFound', 'the server could not find the requested resource', {});
}
