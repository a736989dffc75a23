import { recordEvidence } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { IncidentSink } from '../../reconcile/ports.ts';
import type { ApplicationObject } from './application.ts';

/** The phases in which Argo CD gave up on a sync operation. */
const FAILED_PHASES = new Set(['Failed', 'Error']);

/** A sync operation Argo CD reports as failed, as the ledger records it. */
export interface FailedOperation {
  /** `<app>/op-<startedAt>`: one operation is one attempt, whatever Argo CD retries inside it. */
  deployment: string;
  configCommit: string;
  reason: string;
}

/**
 * The failed sync operation an Application reports in `status.operationState`, if its phase is
 * Failed or Error; undefined while it runs, after it succeeded, or when there is none.
 */
export function failedOperationOf(
  app: string,
  application: ApplicationObject,
): FailedOperation | undefined {
  const state = application.status?.operationState;
  if (!state?.phase || !FAILED_PHASES.has(state.phase)) return undefined;
  const started = state.startedAt ?? state.finishedAt ?? 'unknown';
  return {
    deployment: `${app}/op-${started}`,
    configCommit:
      state.syncResult?.revision ??
      state.operation?.sync?.revision ??
      application.status?.sync?.revision ??
      '',
    reason: `Argo CD sync ${state.phase.toLowerCase()}: ${state.message ?? 'no message'}`,
  };
}

/**
 * Records a failed operation as `sync.failed` and opens an incident for it through the same
 * port the built-in engine uses (the ledger natively, ServiceNow in connected mode).
 */
export async function recordFailedOperation(
  deps: { ledger: Ledger; incidents?: IncidentSink; actor: string },
  app: string,
  failure: FailedOperation,
): Promise<void> {
  const { deployment, configCommit, reason } = failure;
  await recordEvidence(deps.ledger, 'sync.failed', `deployment:${deployment}`, deps.actor, {
    deployment,
    app,
    configCommit,
    reason,
  });
  await deps.incidents?.open({
    app,
    cause: 'sync-failure',
    summary: reason,
    link: `deployment:${deployment}`,
  });
}
