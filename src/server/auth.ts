import type { FastifyRequest } from 'fastify';
import type { Role } from '../config/schema.ts';
import { hasRole, type Actor, type Identity } from '../domain/identity.ts';
import { ChangeproofError } from '../errors.ts';

export type AuthErrorCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'ROLE_REQUIRED';

/** A request that did not prove who sent it (401) or whose sender lacks the role (403). */
export class AuthError extends ChangeproofError<AuthErrorCode> {
  constructor(code: AuthErrorCode, message: string) {
    super(code, message, { category: code === 'ROLE_REQUIRED' ? 'forbidden' : 'unauthenticated' });
  }
}

/** Every role, for routes any authenticated person may read. */
export const ANY_ROLE: Role[] = [
  'developer',
  'approver',
  'cab',
  'oncall',
  'platform-admin',
  'auditor',
];

/** The cookie and query parameter that carry a token where a header cannot (EventSource). */
export const TOKEN_COOKIE = 'changeproof_token';
export const TOKEN_QUERY = 'access_token';
/** The cookie of a dashboard session after OIDC login (connected mode). */
export const SESSION_COOKIE = 'changeproof_session';

/** The value of cookie `name` of a request, if present. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers.cookie
    ?.split(';')
    .map((part) => part.trim().split('='))
    .find(([cookie]) => cookie === name)?.[1];
  return value ? decodeURIComponent(value) : undefined;
}

/** The token of a non-empty `Authorization: Bearer` header, if the request has one. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  return header.slice('Bearer '.length).trim() || undefined;
}

/**
 * The credential of a request: the Authorization header, else the OIDC session cookie, else the
 * token cookie, else the query. An empty Bearer counts as none, so a page signed in by session
 * cookie is not locked out by a client that sends `Bearer ` with nothing after it. The identity
 * tells a session from a bearer token.
 */
export function tokenOf(request: FastifyRequest): string | undefined {
  const bearer = bearerOf(request);
  if (bearer) return bearer;
  const cookie = cookieOf(request, SESSION_COOKIE) ?? cookieOf(request, TOKEN_COOKIE);
  if (cookie) return cookie;
  const query = (request.query as Record<string, unknown> | undefined)?.[TOKEN_QUERY];
  return typeof query === 'string' && query.length > 0 ? query : undefined;
}

/**
 * The credential of a request that changes something: a Bearer token, else the dashboard session
 * cookie (SameSite=Lax, so never sent on a cross-site POST). Tokens in a query string or in the
 * token cookie are refused here, since a link or another tab could carry them.
 */
export function actionTokenOf(request: FastifyRequest): string | undefined {
  return bearerOf(request) ?? cookieOf(request, SESSION_COOKIE);
}

/**
 * Authenticates a request and refuses it unless the actor holds one of `roles`.
 * @example const actor = await authorizeRequest(identity, request, ['auditor', 'approver']);
 */
export async function authorizeRequest(
  identity: Identity,
  request: FastifyRequest,
  roles: readonly Role[],
): Promise<Actor> {
  const actor = await identity.authenticate(tokenOf(request));
  if (!hasRole(actor, ...roles)) {
    throw new AuthError(
      'ROLE_REQUIRED',
      `${actor.name} (${actor.roles.join(', ')}) needs role ${roles.join(' or ')} here`,
    );
  }
  return actor;
}
