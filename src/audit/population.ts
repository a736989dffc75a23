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
  const windows = syncWindows(index);
  const unexplained = index
    .all('cluster.change-observed')
    .filter((o) => envs.has(envOfApp(o.payload.app)) && !explained(index, windows, o));
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

/** When each application's syncs ran, as millisecond windows sorted by start. */
type SyncWindows = Map<string, { start: number; end: number }[]>;

function syncWindows(index: EvidenceIndex): SyncWindows {
  const windows: SyncWindows = new Map();
  for (const sync of index.all('sync.completed')) {
    const list = windows.get(sync.payload.app) ?? [];
    list.push({
      start: Date.parse(sync.payload.startedAt),
      end: Date.parse(sync.payload.finishedAt),
    });
    windows.set(sync.payload.app, list);
  }
  for (const list of windows.values()) list.sort((a, b) => a.start - b.start);
  return windows;
}

function explained(
  index: EvidenceIndex,
  windows: SyncWindows,
  observed: Evidence<'cluster.change-observed'>,
): boolean {
  const at = Date.parse(observed.time);
  const { app, object, fieldManager } = observed.payload;
  if (fieldManager === CD_FIELD_MANAGER) return withinASync(windows.get(app) ?? [], at);
  // An out-of-band write the drift detector caught is drift, audited on the deployment it hit.
  return index
    .linked('drift.detected', 'app', app)
    .some(
      (d) => d.payload.object === object && Math.abs(Date.parse(d.time) - at) <= MATCH_SLACK_MS,
    );
}

/** Binary search for the last sync starting before `at` (with slack), then look back a little. */
function withinASync(windows: { start: number; end: number }[], at: number): boolean {
  let low = 0;
  let high = windows.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (windows[middle]!.start - MATCH_SLACK_MS <= at) low = middle + 1;
    else high = middle;
  }
  for (let i = low - 1; i >= 0 && i >= low - 8; i -= 1) {
    if (at <= windows[i]!.end + MATCH_SLACK_MS) return true;
  }
  return false;
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
