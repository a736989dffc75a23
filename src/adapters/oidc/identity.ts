import { roles as knownRoles, type Role } from '../../config/schema.ts';
import type { Actor, Identity } from '../../domain/identity.ts';
import { ChangeError } from '../../change/errors.ts';
import { isSealed, type CookieSealer } from './sealed-cookie.ts';

/** What a session cookie holds: who logged in and the roles their groups gave them then. */
export interface SessionClaims {
  name: string;
  roles: Role[];
  issuer: string;
  subject: string;
}

/**
 * The identity of connected mode: a sealed OIDC session (the dashboard's cookie) is an actor
 * with the roles its groups mapped to at login; any other credential (a local bearer token of a
 * CLI or pipeline) is passed to the local identity.
 */
export class OidcIdentity implements Identity {
  constructor(
    private readonly sessions: CookieSealer,
    private readonly fallback: Identity,
  ) {}

  async authenticate(token: string | undefined): Promise<Actor> {
    if (!isSealed(token)) return this.fallback.authenticate(token);
    const { value: session, expired } = this.sessions.inspect<SessionClaims>(token);
    // The same codes as a local token, so callers and tests treat both credentials alike.
    if (!session) {
      throw new ChangeError('TOKEN_INVALID', 'session not recognised; log in again at /auth/login');
    }
    if (expired)
      throw new ChangeError('TOKEN_EXPIRED', 'the session expired; log in again at /auth/login');
    return { name: session.name, roles: session.roles };
  }
}

/**
 * The changeproof roles of a person from their groups claim through `roleMap`; names that are not
 * changeproof roles are dropped, so a typo in the map grants nothing.
 * @example rolesFromGroups(['cab'], { cab: ['cab', 'approver'] }) // ['cab', 'approver']
 */
export function rolesFromGroups(groups: unknown, roleMap: Record<string, string[]>): Role[] {
  const list = Array.isArray(groups) ? groups : typeof groups === 'string' ? [groups] : [];
  const granted = new Set<Role>();
  for (const group of list) {
    if (typeof group !== 'string') continue;
    for (const role of roleMap[group] ?? []) {
      if ((knownRoles as readonly string[]).includes(role)) granted.add(role as Role);
    }
  }
  return [...granted].sort();
}
