import { evidenceOf, recordEvidence } from '../domain/evidence.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { ReconcileError } from './errors.ts';

/** What the CD plane tells change management about one sync. */
export interface DeploymentOutcome {
  deployment: string;
  app: string;
  configCommit: string;
  desiredDigest: string;
  liveDigest?: string;
  finishedAt: string;
}

/**
 * The change lifecycle as the CD plane sees it: which change record a config commit belongs to,
 * whether it may be deployed now, and what became of it. Change management implements it; the
 * native one below reads the ledger and changes nothing.
 */
export interface ChangeLifecycle {
  /** The change record linked to the merged proposal whose merge commit is `configCommit`. */
  changeFor(configCommit: string): Promise<string | undefined>;
  /** False when the change has a window and now is outside it (emergencies are never held). */
  withinWindow?(change: string, now: Date): Promise<boolean>;
  onSyncSucceeded(change: string, deployment: DeploymentOutcome): Promise<void>;
  onSyncFailed(
    change: string,
    incident: { incident: string; reason: string; deployment: string },
  ): Promise<void>;
}

/** Where incidents go: the ledger natively, ServiceNow in connected mode. */
export interface IncidentSink {
  open(incident: {
    app: string;
    cause: 'drift' | 'sync-failure';
    summary: string;
    link: string;
  }): Promise<string>;
  /**
   * Resolves an incident this sink's system of record knows. An incident that was never opened
   * is refused with `INCIDENT_UNKNOWN` and nothing is recorded: a resolution of nothing would be
   * false evidence of incident response.
   */
  resolve(incident: string, resolution: string): Promise<void>;
}

/** The refusal every {@link IncidentSink} gives for an incident it has no record of. */
export function unknownIncident(incident: string, systemOfRecord: string): ReconcileError {
  return new ReconcileError(
    'INCIDENT_UNKNOWN',
    `incident ${incident} was never opened in ${systemOfRecord}; resolve only ids open() returned`,
    { category: 'not-found', details: { incident } },
  );
}

/** Finds the change through `proposal.merged` evidence; the lifecycle hooks do nothing. */
export function ledgerChangeLifecycle(ledger: Ledger): ChangeLifecycle {
  return {
    async changeFor(configCommit) {
      for (const entry of await ledger.list({ kind: 'proposal.merged' })) {
        const merged = evidenceOf(entry, 'proposal.merged');
        if (merged?.mergeCommit === configCommit) return merged.change;
      }
      return undefined;
    },
    onSyncSucceeded: async () => undefined,
    onSyncFailed: async () => undefined,
  };
}

/** Incidents kept in the ledger only: `incident.opened` and `incident.resolved`. */
export function ledgerIncidentSink(ledger: Ledger, actor = 'system:cd-engine'): IncidentSink {
  let counter = 0;
  return {
    async open(incident) {
      const id = `INC-${Date.now().toString(36)}-${(++counter).toString(36)}`;
      await recordEvidence(ledger, 'incident.opened', `incident:${id}`, actor, {
        incident: id,
        app: incident.app,
        cause: incident.cause,
        link: incident.link,
      });
      return id;
    },
    async resolve(incident, resolution) {
      const subject = `incident:${incident}`;
      const [opened] = await ledger.list({ kind: 'incident.opened', subject, limit: 1 });
      if (!opened) throw unknownIncident(incident, 'the ledger');
      await recordEvidence(ledger, 'incident.resolved', subject, actor, {
        incident,
        resolution,
      });
    },
  };
}
