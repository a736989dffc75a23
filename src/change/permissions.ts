import type { Role } from '../config/schema.ts';
import { hasRole, type Actor } from '../domain/identity.ts';
import { ChangeError } from './errors.ts';

/** The actions a person takes in review and change management. */
export type Action =
  | 'read'
  | 'open'
  | 'comment'
  | 'approve'
  | 'approve-production'
  | 'merge'
  | 'emergency'
  | 'retro-review'
  | 'schedule'
  | 'lifecycle';

/**
 * Who may do what. Auditors read everything and change nothing; approving production needs the
 * approver or CAB role (a developer's review never counts there); only on-call declares an
 * emergency. Separation of duties (not the author, not the last pusher) is checked separately,
 * against the proposal.
 */
const ALLOWED: Record<Action, Role[]> = {
  read: ['developer', 'approver', 'cab', 'oncall', 'platform-admin', 'auditor'],
  open: ['developer', 'oncall', 'platform-admin'],
  comment: ['developer', 'approver', 'cab', 'oncall', 'platform-admin'],
  approve: ['developer', 'approver', 'cab', 'oncall'],
  'approve-production': ['approver', 'cab'],
  merge: ['developer', 'approver', 'cab', 'oncall', 'platform-admin'],
  emergency: ['oncall'],
  'retro-review': ['approver', 'cab'],
  schedule: ['approver', 'cab', 'platform-admin'],
  lifecycle: ['platform-admin'],
};

/** Refuses with ROLE_REQUIRED unless `actor` holds a role allowed to take `action`. */
export function authorize(actor: Actor, action: Action): void {
  const allowed = ALLOWED[action];
  if (!hasRole(actor, ...allowed)) {
    throw new ChangeError(
      'ROLE_REQUIRED',
      `${actor.name} (${actor.roles.join(', ')}) cannot ${action.replace('-', ' ')}: needs role ${allowed.join(' or ')}`,
      { details: { actor: actor.name, action } },
    );
  }
}

/** The role an approval is recorded under: the strongest of the approver's roles that counts. */
export function approvalRole(actor: Actor, emergency: boolean): Role {
  const order: Role[] = emergency
    ? ['oncall', 'cab', 'approver']
    : ['cab', 'approver', 'oncall', 'developer'];
  return order.find((role) => actor.roles.includes(role)) ?? actor.roles[0]!;
}
