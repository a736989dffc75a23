import { objectKey, type KubeObject } from '../gitops/render.ts';
import { fieldManager } from './application.ts';
import { diffObject, type IgnoreDifference } from './diff.ts';
import { fieldOwners, ownerOf } from './managed-fields.ts';

/**
 * Deciding what a sync may take over when server-side apply reports conflicting field managers.
 * A sync never forces silently: a field Git sets that another manager owns with another value
 * stops the sync, unless the application's ignoreDifferences gives that field to the other
 * manager, or the field is drift of what changeproof applied before and the application
 * self-heals (reverting drift is what self-heal does anyway). Pure: no I/O.
 */

/** A field Git sets that another field manager holds with a different value. */
export interface FieldConflict {
  /** `Kind/namespace/name`. */
  object: string;
  /** JSON pointer into the object. */
  path: string;
  manager: string;
}

/** What a sync knows when it meets a conflict. */
export interface ConflictPolicy {
  ignoreDifferences: readonly IgnoreDifference[];
  /** What the application's previous sync applied: fields of it someone rewrote are drift. */
  previous: readonly KubeObject[];
  /** Whether the application reverts drift. */
  selfHeal: boolean;
}

/** The conflicts on `desired` that a sync must not take over: empty when forcing is safe. */
export function blockingConflicts(
  desired: KubeObject,
  live: KubeObject,
  policy: ConflictPolicy,
): FieldConflict[] {
  const owners = fieldOwners(live);
  const before = policy.previous.find((object) => objectKey(object) === objectKey(desired));
  const conflicts: FieldConflict[] = [];
  for (const difference of diffObject(desired, live, policy.ignoreDifferences)) {
    const manager = ownerOf(owners, difference.path, fieldManager);
    if (!manager) continue;
    if (policy.selfHeal && before && valueAtPointer(before, difference.path) !== undefined)
      continue;
    conflicts.push({ object: objectKey(desired), path: difference.path || '/', manager });
  }
  return conflicts;
}

/** One line naming every conflict and what to do about it. */
export function describeConflicts(conflicts: readonly FieldConflict[]): string {
  const fields = conflicts.map((c) => `${c.object} ${c.path} (owned by ${c.manager})`).join(', ');
  return (
    `conflicting field managers: ${fields}; undo the other manager's change ` +
    `or give it the field in the application's ignoreDifferences`
  );
}

/** The value an RFC 6901 pointer names, or undefined. */
function valueAtPointer(value: unknown, pointer: string): unknown {
  let current = value;
  for (const raw of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
