import { evidenceOf, recordEvidence } from '../domain/evidence.ts';
import type { Ledger } from '../ledger/ledger.ts';

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
  resolve(incident: string, resolution: string): Promise<void>;
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
      await recordEvidence(ledger, 'incident.resolved', `incident:${incident}`, actor, {
        incident,
        resolution,
      });
    },
  };
}
