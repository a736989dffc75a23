import type { Evidence, EvidenceIndex } from './evidence-index.ts';

/** The field manager the CD plane applies with; its writes are deployments, not drift. */
export const CD_FIELD_MANAGER = 'changeproof';

/** How far a cluster change may lie from the sync or drift record that explains it. */
const MATCH_SLACK_MS = 5 * 60_000;

/** One member of the audit population, before it is answered. */
export type PopulationItem =
  | { source: 'cd-plane'; sync: Evidence<'sync.completed'> }
  | { source: 'cluster'; observations: Evidence<'cluster.change-observed'>[] };

/**
 * Builds the population from what the CD plane and the cluster saw, not from change records:
 * every completed sync, plus every change the cluster observed that no sync and no recorded
 * drift explains. Such a change is a deployment that escaped the record, and must appear.
 */
export function buildPopulation(index: EvidenceIndex, envs: Set<string>): PopulationItem[] {
  const items: PopulationItem[] = index
    .all('sync.completed')
    .filter((sync) => envs.has(sync.payload.env))
    .map((sync) => ({ source: 'cd-plane' as const, sync }));
  const unexplained = index
    .all('cluster.change-observed')
    .filter((o) => envs.has(envOfApp(o.payload.app)) && !explained(index, o));
  for (const group of groupByBurst(unexplained))
    items.push({ source: 'cluster', observations: group });
  return items;
}

export function envOfApp(app: string): string {
  return app.split('/')[0] ?? app;
}

export function serviceOfApp(app: string): string {
  return app.split('/').slice(1).join('/') || app;
}

function explained(index: EvidenceIndex, observed: Evidence<'cluster.change-observed'>): boolean {
  const at = Date.parse(observed.time);
  const { app, object, fieldManager } = observed.payload;
  if (fieldManager === CD_FIELD_MANAGER) {
    return index.linked('sync.completed', `app:${app}`).some((sync) => {
      const started = Date.parse(sync.payload.startedAt) - MATCH_SLACK_MS;
      const finished = Date.parse(sync.payload.finishedAt) + MATCH_SLACK_MS;
      return at >= started && at <= finished;
    });
  }
  // An out-of-band write the drift detector caught is drift, audited on the deployment it hit.
  return index
    .linked('drift.detected', `app:${app}`)
    .some(
      (d) => d.payload.object === object && Math.abs(Date.parse(d.time) - at) <= MATCH_SLACK_MS,
    );
}

/** Observations of one application by one field manager within the slack are one change. */
function groupByBurst(
  observations: Evidence<'cluster.change-observed'>[],
): Evidence<'cluster.change-observed'>[][] {
  const open = new Map<string, Evidence<'cluster.change-observed'>[]>();
  const groups: Evidence<'cluster.change-observed'>[][] = [];
  for (const observation of observations) {
    const key = `${observation.payload.app}|${observation.payload.fieldManager}`;
    const group = open.get(key);
    const last = group?.at(-1);
    if (group && last && Date.parse(observation.time) - Date.parse(last.time) <= MATCH_SLACK_MS) {
      group.push(observation);
      continue;
    }
    const fresh = [observation];
    open.set(key, fresh);
    groups.push(fresh);
  }
  return groups;
}
