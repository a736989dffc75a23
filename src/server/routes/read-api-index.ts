import type { EvidenceCache, Entry } from './read-api-evidence.ts';
import { digestOf, groupBy } from './read-api-evidence.ts';
import type {
  DeploymentSummary,
  DriftView,
  EvidenceBadge,
  IncidentView,
} from './read-api-types.ts';

type SyncEntry = Entry<'sync.completed'> | Entry<'sync.failed'> | Entry<'sync.refused'>;

/**
 * Lookups over the cached evidence, built once per ledger head: the syncs of each application,
 * its drifts and verifications, the merge behind each config commit, and the pipeline run behind
 * each image digest.
 */
export class EvidenceIndex {
  readonly syncsByApp: Map<string, SyncEntry[]>;
  readonly completedByDeployment: Map<string, Entry<'sync.completed'>>;
  readonly driftsByApp: Map<string, Entry<'drift.detected'>[]>;
  readonly revertsByApp: Map<string, Entry<'drift.reverted'>[]>;
  readonly verificationsByApp: Map<string, Entry<'verification.sealed'>[]>;
  readonly incidentsByApp: Map<string, Entry<'incident.opened'>[]>;
  readonly resolutions: Map<string, Entry<'incident.resolved'>>;
  readonly mergeByCommit = new Map<string, Entry<'proposal.merged'>>();
  readonly deliveryByDigest = new Map<string, Entry<'delivery.completed'>>();
  readonly startedByRun: Map<string, Entry<'delivery.started'>>;
  readonly changeApprovals: Map<string, Entry<'change.approved'>[]>;
  readonly changeOpened: Map<string, Entry<'change.opened'>>;
  readonly changeStates: Map<string, Entry<'change.state'>[]>;

  constructor(readonly cache: EvidenceCache) {
    const syncs: SyncEntry[] = [
      ...cache.all('sync.completed'),
      ...cache.all('sync.failed'),
      ...cache.all('sync.refused'),
    ].sort((a, b) => a.seq - b.seq);
    this.syncsByApp = groupBy(syncs, (entry) => entry.payload.app);
    this.completedByDeployment = new Map(
      cache.all('sync.completed').map((entry) => [entry.payload.deployment, entry]),
    );
    this.driftsByApp = groupBy(cache.all('drift.detected'), (e) => e.payload.app);
    this.revertsByApp = groupBy(cache.all('drift.reverted'), (e) => e.payload.app);
    this.verificationsByApp = groupBy(cache.all('verification.sealed'), (e) => e.payload.app);
    this.incidentsByApp = groupBy(cache.all('incident.opened'), (e) => e.payload.app);
    this.resolutions = new Map(cache.all('incident.resolved').map((e) => [e.payload.incident, e]));
    for (const merged of cache.all('proposal.merged')) {
      this.mergeByCommit.set(merged.payload.mergeCommit, merged);
      this.mergeByCommit.set(merged.payload.headCommit, merged);
    }
    for (const delivered of cache.all('delivery.completed')) {
      this.deliveryByDigest.set(digestOf(delivered.payload.image), delivered);
    }
    this.startedByRun = new Map(cache.all('delivery.started').map((e) => [e.payload.run, e]));
    this.changeApprovals = groupBy(cache.all('change.approved'), (e) => e.payload.change);
    this.changeOpened = new Map(cache.all('change.opened').map((e) => [e.payload.change, e]));
    this.changeStates = groupBy(cache.all('change.state'), (e) => e.payload.change);
  }

  /** The evidence chain of a completed sync: approved, signed, scanned, verified. */
  badgeOf(sync: Entry<'sync.completed'>): EvidenceBadge {
    const p = sync.payload;
    const merged = this.mergeByCommit.get(p.configCommit);
    const change = p.change ?? merged?.payload.change;
    const approved = Boolean(
      merged &&
      (merged.payload.approvals.length > 0 ||
        merged.payload.path === 'automatic' ||
        (change !== undefined && (this.changeApprovals.get(change)?.length ?? 0) > 0)),
    );
    const signed = p.images.length > 0 && p.images.every((image) => Boolean(image.signedBy));
    const scanned =
      p.images.length > 0 &&
      p.images.every(
        (image) =>
          this.deliveryByDigest.get(digestOf(image.digest))?.payload.scanVerdict === 'pass',
      );
    const verified = this.verifiedSince(sync);
    const links = { approved, signed, scanned, verified };
    const missing = Object.entries(links)
      .filter(([, present]) => !present)
      .map(([name]) => name);
    return { ...links, missing };
  }

  /** True when the last verification since the sync found live equal to the synced state. */
  verifiedSince(sync: Entry<'sync.completed'>): boolean {
    const verifications = this.verificationsByApp.get(sync.payload.app) ?? [];
    const last = verifications.findLast(
      (v) => v.seq > sync.seq && v.payload.desiredDigest === sync.payload.desiredDigest,
    );
    if (last) return last.payload.equal && !this.unrevertedDriftAfter(sync.payload.app, last.seq);
    return false;
  }

  /** A detect-only drift after `seq` that no revert or later sync has answered. */
  unrevertedDriftAfter(app: string, seq: number): boolean {
    const lastSync = this.syncsByApp.get(app)?.findLast((s) => s.kind === 'sync.completed');
    const since = Math.max(seq, lastSync?.seq ?? 0);
    const reverts = this.revertsByApp.get(app) ?? [];
    return (this.driftsByApp.get(app) ?? []).some(
      (drift) =>
        drift.seq > since &&
        drift.payload.action === 'detect-only' &&
        !reverts.some((r) => r.seq > drift.seq && r.payload.object === drift.payload.object),
    );
  }

  driftView(drift: Entry<'drift.detected'>): DriftView {
    const p = drift.payload;
    const reverted = (this.revertsByApp.get(p.app) ?? []).find(
      (r) => r.seq > drift.seq && r.payload.object === p.object,
    );
    const incident = (this.incidentsByApp.get(p.app) ?? []).find(
      (i) => i.seq > drift.seq && i.payload.cause === 'drift',
    );
    return {
      seq: drift.seq,
      at: drift.time,
      app: p.app,
      object: p.object,
      fields: p.fields,
      diff: p.diff,
      fieldManager: p.fieldManager,
      action: p.action,
      revertedAt: reverted?.time,
      incident: incident && this.incidentView(incident),
    };
  }

  incidentView(incident: Entry<'incident.opened'>): IncidentView {
    const resolved = this.resolutions.get(incident.payload.incident);
    return {
      id: incident.payload.incident,
      seq: incident.seq,
      openedAt: incident.time,
      cause: incident.payload.cause,
      resolvedAt: resolved?.time,
      resolution: resolved?.payload.resolution,
    };
  }
}

/** A sync outcome of any kind, as one row of an application's history. */
export function summarizeSync(sync: SyncEntry): DeploymentSummary {
  const base = { seq: sync.seq, at: sync.time, configCommit: sync.payload.configCommit };
  if (sync.kind === 'sync.completed') {
    const p = sync.payload;
    return {
      ...base,
      id: p.deployment,
      at: p.finishedAt,
      outcome: 'completed',
      change: p.change,
      images: p.images,
      desiredDigest: p.desiredDigest,
      liveDigest: p.liveDigest,
      initiator: p.initiator,
    };
  }
  if (sync.kind === 'sync.failed') {
    return {
      ...base,
      id: sync.payload.deployment,
      outcome: 'failed',
      images: [],
      reason: sync.payload.reason,
    };
  }
  const p = sync.payload;
  return {
    ...base,
    id: `${p.app}@${sync.seq}`,
    outcome: 'refused',
    images: p.images.map((image) => ({ name: image, digest: digestOf(image) })),
    reason: `${p.code}: ${p.reason}`,
  };
}

const indexes = new WeakMap<EvidenceCache, { seq: number; index: EvidenceIndex }>();

/** The index for the cache's current head, rebuilt only when the ledger moved. */
export async function currentIndex(cache: EvidenceCache): Promise<EvidenceIndex> {
  await cache.refresh();
  const held = indexes.get(cache);
  if (held && held.seq === cache.headSeq) return held.index;
  const index = new EvidenceIndex(cache);
  indexes.set(cache, { seq: cache.headSeq, index });
  return index;
}
