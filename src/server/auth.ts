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

/** The bearer token of a request: the Authorization header, else the cookie, else the query. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim() || undefined;
  const cookie = request.headers.cookie
    ?.split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  if (cookie) return decodeURIComponent(cookie);
  const query = (request.query as Record<string, unknown> | undefined)?.[TOKEN_QUERY];
  return typeof query === 'string' && query.length > 0 ? query : undefined;
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
