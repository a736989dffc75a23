import type { EvidenceIndex } from './evidence-index.ts';
import { envOfApp } from './population.ts';
import type { AuditRange } from './range.ts';
import type { AuditedDeployment } from './types.ts';

export type FrequencyBucket = 'daily' | 'weekly' | 'monthly' | 'yearly' | 'none';

export interface DoraFigures {
  deployments: number;
  deploymentFrequency: FrequencyBucket;
  /** Median over weeks in the range of the number of days with a deployment. */
  medianDeployDaysPerWeek: number;
  leadTimeMedianHours?: number;
  leadTimeSamples: number;
  changes: number;
  failedChanges: number;
  changeFailureRate?: number;
  timeToRestoreMedianHours?: number;
  incidents: number;
}

export interface DoraGroup extends DoraFigures {
  env: string;
  service: string;
}

export interface DoraWeek {
  week: string;
  deployments: number;
  leadTimeMedianHours?: number;
  changeFailureRate?: number;
  timeToRestoreMedianHours?: number;
}

export interface DoraReport {
  range: string;
  overall: DoraFigures;
  groups: DoraGroup[];
  weekly: DoraWeek[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The four keys from the ledger (definitions in FORMATS.md): deployment frequency in the Four
 * Keys buckets, lead time from source commit to production deployment (median, values ≤ 0
 * dropped), change failure rate (changes linked to an incident, a failed sync or a rollback ÷
 * distinct changes deployed), and time to restore (median incident opened → resolved). Per
 * service and environment, overall, and week by week.
 */
export function computeDora(
  index: EvidenceIndex,
  deployments: AuditedDeployment[],
  range: AuditRange,
): DoraReport {
  const synced = deployments.filter((d) => d.source === 'cd-plane');
  const envs = new Set(synced.map((d) => d.env));
  const failed = failedChangeKeys(index, synced);
  const incidents = restoreTimes(index, range, envs);
  const bounds = effectiveBounds(range, synced);
  const groups = new Map<string, AuditedDeployment[]>();
  for (const d of synced) {
    const key = `${d.env}/${d.service}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(d);
  }
  return {
    range: range.label,
    overall: figures(synced, failed, incidents, bounds),
    groups: [...groups.entries()].sort().map(([key, list]) => ({
      env: list[0]!.env,
      service: list[0]!.service,
      ...figures(
        list,
        failed,
        incidents.filter((i) => i.app === key),
        bounds,
      ),
    })),
    weekly: weeksOf(bounds).map((week) => weekFigures(week, synced, failed, incidents)),
  };
}

interface Incident {
  app: string;
  openedAt: number;
  hours?: number;
}

/** A deployment's change: its change record, else its proposal, else the deployment itself. */
export function changeKey(d: AuditedDeployment): string {
  return d.approval.change?.id ?? d.approval.proposal?.id ?? d.id;
}

function figures(
  list: AuditedDeployment[],
  failed: Set<string>,
  incidents: Incident[],
  bounds: Bounds,
): DoraFigures {
  const leads = leadTimes(list);
  const changes = new Set(list.map(changeKey));
  const failedChanges = [...changes].filter((c) => failed.has(c)).length;
  const restored = incidents.flatMap((i) => (i.hours === undefined ? [] : [i.hours]));
  const { bucket, medianDays } = frequency(list, bounds);
  return {
    deployments: list.length,
    deploymentFrequency: bucket,
    medianDeployDaysPerWeek: medianDays,
    leadTimeMedianHours: median(leads),
    leadTimeSamples: leads.length,
    changes: changes.size,
    failedChanges,
    changeFailureRate: changes.size ? failedChanges / changes.size : undefined,
    timeToRestoreMedianHours: median(restored),
    incidents: incidents.length,
  };
}

function leadTimes(list: AuditedDeployment[]): number[] {
  return list.flatMap((d) => {
    const commits = new Map(d.artifact.images.map((i) => [i.sourceCommit, i.sourceCommittedAt]));
    return [...commits.values()].flatMap((at) => {
      const hours = at ? (Date.parse(d.deployedAt) - Date.parse(at)) / HOUR_MS : NaN;
      return hours > 0 ? [hours] : [];
    });
  });
}

/** Changes linked to a non-drift incident, a failed sync, or rolled back by the next deployment. */
function failedChangeKeys(index: EvidenceIndex, deployments: AuditedDeployment[]): Set<string> {
  const failed = new Set<string>();
  const byDeployment = new Map(deployments.map((d) => [d.id, d]));
  for (const incident of index.all('incident.opened')) {
    if (incident.payload.cause === 'drift') continue;
    if (incident.payload.change) failed.add(incident.payload.change);
    const linked = incident.payload.deployment ?? incident.payload.link.replace(/^deployment:/, '');
    const d = byDeployment.get(linked);
    if (d) failed.add(changeKey(d));
  }
  for (const d of deployments) {
    if (d.rollback) {
      const rolledBack = deployments
        .filter((x) => x.app === d.app && x.deployedAt < d.deployedAt)
        .at(-1);
      if (rolledBack) failed.add(changeKey(rolledBack));
    }
  }
  for (const failure of index.all('sync.failed')) {
    const merged = index.last('proposal.merged', 'commit', failure.payload.configCommit);
    failed.add(merged?.payload.change ?? merged?.payload.proposal ?? failure.payload.deployment);
  }
  return failed;
}

function restoreTimes(index: EvidenceIndex, range: AuditRange, envs: Set<string>): Incident[] {
  return index
    .all('incident.opened')
    .filter((i) => envs.has(envOfApp(i.payload.app)))
    .filter(
      (i) => Date.parse(i.time) >= range.from.getTime() && Date.parse(i.time) < range.to.getTime(),
    )
    .map((i) => {
      const resolved = index.first('incident.resolved', 'incident', i.payload.incident);
      const openedAt = Date.parse(i.time);
      return {
        app: i.payload.app,
        openedAt,
        hours: resolved ? (Date.parse(resolved.time) - openedAt) / HOUR_MS : undefined,
      };
    });
}

interface Bounds {
  from: number;
  to: number;
}

/** An open-ended range is measured from its first to its last deployment. */
function effectiveBounds(range: AuditRange, list: AuditedDeployment[]): Bounds {
  const times = list.map((d) => Date.parse(d.deployedAt));
  const from = range.from.getTime() > 0 ? range.from.getTime() : Math.min(...times, Date.now());
  const to = range.to.getTime() < 8e15 ? range.to.getTime() : Math.max(...times, from) + 1;
  return { from, to };
}

/** Four Keys: daily if the median week has deployments on 3+ days; weekly if on 1+; then months. */
function frequency(
  list: AuditedDeployment[],
  bounds: Bounds,
): { bucket: FrequencyBucket; medianDays: number } {
  if (list.length === 0) return { bucket: 'none', medianDays: 0 };
  const days = new Set(list.map((d) => d.deployedAt.slice(0, 10)));
  const perWeek = weeksOf(bounds).map((w) => [...days].filter((day) => inWeek(day, w)).length);
  const medianDays = median(perWeek) ?? 0;
  if (medianDays >= 3) return { bucket: 'daily', medianDays };
  if (medianDays >= 1) return { bucket: 'weekly', medianDays };
  const months = monthsOf(bounds).map((m) => [...days].filter((day) => day.startsWith(m)).length);
  return { bucket: (median(months) ?? 0) >= 1 ? 'monthly' : 'yearly', medianDays };
}

/** Monday 00:00 UTC of every week overlapping the bounds, as YYYY-MM-DD. */
function weeksOf(bounds: Bounds): string[] {
  const start = new Date(bounds.from);
  const monday =
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()) -
    ((start.getUTCDay() + 6) % 7) * DAY_MS;
  const weeks: string[] = [];
  for (let t = monday; t < bounds.to; t += 7 * DAY_MS)
    weeks.push(new Date(t).toISOString().slice(0, 10));
  return weeks;
}

function monthsOf(bounds: Bounds): string[] {
  const months = new Set<string>();
  for (let t = bounds.from; t < bounds.to; t += DAY_MS)
    months.add(new Date(t).toISOString().slice(0, 7));
  return [...months];
}

function inWeek(isoDay: string, week: string): boolean {
  const t = Date.parse(isoDay);
  const start = Date.parse(week);
  return t >= start && t < start + 7 * DAY_MS;
}

function weekFigures(
  week: string,
  list: AuditedDeployment[],
  failed: Set<string>,
  incidents: Incident[],
): DoraWeek {
  const mine = list.filter((d) => inWeek(d.deployedAt.slice(0, 10), week));
  const changes = new Set(mine.map(changeKey));
  const opened = incidents.filter((i) =>
    inWeek(new Date(i.openedAt).toISOString().slice(0, 10), week),
  );
  return {
    week,
    deployments: mine.length,
    leadTimeMedianHours: median(leadTimes(mine)),
    changeFailureRate: changes.size
      ? [...changes].filter((c) => failed.has(c)).length / changes.size
      : undefined,
    timeToRestoreMedianHours: median(
      opened.flatMap((i) => (i.hours === undefined ? [] : [i.hours])),
    ),
  };
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
