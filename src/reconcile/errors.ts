import { ChangeproofError } from '../errors.ts';

/** Why a sync, a verification or a rollback did not happen. */
export type ReconcileErrorCode =
  | 'IMAGE_UNTRUSTED'
  | 'RENDER_FAILED'
  | 'UNKNOWN_KIND'
  | 'NAMESPACE_REQUIRED'
  | 'DUPLICATE_OBJECT'
  | 'OUTSIDE_WINDOW'
  | 'NO_CHANGE_RECORD'
  | 'APPLY_FAILED'
  | 'FIELD_CONFLICT'
  | 'UNHEALTHY'
  | 'APP_UNKNOWN'
  | 'DEPLOYMENT_UNKNOWN'
  | 'NOTHING_TO_ROLL_BACK'
  | 'INCIDENT_UNKNOWN';

export class ReconcileError extends ChangeproofError<ReconcileErrorCode> {}
