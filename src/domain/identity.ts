import type { Role } from '../config/schema.ts';

/** Someone authenticated: a user from changeproof.yaml with the roles configured there. */
export interface Actor {
  name: string;
  roles: Role[];
}

/**
 * The identity port. Local mode: per-user tokens issued by the workspace. Connected mode: OIDC.
 * Both resolve a credential to an {@link Actor} or refuse.
 */
export interface Identity {
  authenticate(token: string | undefined): Promise<Actor>;
}

export function hasRole(actor: Actor, ...roles: Role[]): boolean {
  return actor.roles.some((role) => roles.includes(role));
}
