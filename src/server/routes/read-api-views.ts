import type { ChangeproofConfig } from '../../config/schema.ts';
import { digestOf } from './read-api-evidence.ts';
import { summarizeSync, type EvidenceIndex } from './read-api-index.ts';
import type {
  AppDetail,
  DeploymentSummary,
  Matrix,
  MatrixCell,
  Page,
  TimelineEvent,
} from './read-api-types.ts';

const NO_EVIDENCE = ['approved', 'signed', 'scanned', 'verified'];

/** The environments (in promotion order) by services (configured or seen deployed) matrix. */
export function buildMatrix(index: EvidenceIndex, config: ChangeproofConfig): Matrix {
  const environments = [...config.environments]
    .sort((a, b) => a.order - b.order)
    .map((env) => env.name);
  const services = new Set(Object.keys(config.services));
  for (const syncs of index.syncsByApp.values()) {
    const last = syncs.at(-1);
    if (last?.kind === 'sync.completed') services.add(last.payload.service);
    else if (last) services.add(last.payload.app.split('/')[1] ?? last.payload.app);
  }
  const sorted = [...services].sort();
  const cells = environments.flatMap((env) => sorted.map((service) => cellOf(index, env, service)));
  return { environments, services: sorted, cells, headSeq: index.cache.headSeq };
}

/** One application's state from its latest sync outcome and the drift since. */
export function cellOf(index: EvidenceIndex, env: string, service: string): MatrixCell {
  const app = `${env}/${service}`;
  const syncs = index.syncsByApp.get(app) ?? [];
  const last = syncs.at(-1);
  const completed = syncs.findLast((s) => s.kind === 'sync.completed');
  const cell: MatrixCell = {
    env,
    service,
    app,
    sync: 'never',
    evidence: {
      approved: false,
      signed: false,
      scanned: false,
      verified: false,
      missing: NO_EVIDENCE,
    },
  };
  if (completed?.kind === 'sync.completed') {
    const p = completed.payload;
    Object.assign(cell, {
      health: p.health,
      image: p.images[0]?.name,
      digest: p.images[0] && digestOf(p.images[0].digest),
      configCommit: p.configCommit,
      change: p.change ?? index.mergeByCommit.get(p.configCommit)?.payload.change,
      deployment: p.deployment,
      deployedAt: p.finishedAt,
      evidence: index.badgeOf(completed),
    });
    cell.sync = index.unrevertedDriftAfter(app, completed.seq) ? 'drifted' : 'synced';
  }
  if (last && last.kind !== 'sync.completed') {
    cell.sync = last.kind === 'sync.failed' ? 'failed' : 'refused';
    cell.reason = last.payload.reason;
  }
  return cell;
}

/** An application's page: state, desired against live, drifts, and a page of its history. */
export function buildAppDetail(
  index: EvidenceIndex,
  env: string,
  service: string,
  page: { cursor?: number; limit: number },
): AppDetail {
  const cell = cellOf(index, env, service);
  const syncs = index.syncsByApp.get(cell.app) ?? [];
  const completed = index.completedByDeployment.get(cell.deployment ?? '');
  const verification = index.verificationsByApp.get(cell.app)?.at(-1);
  const history = paginate(
    [...syncs].reverse().map(summarizeSync),
    (item: DeploymentSummary) => item.seq,
    page,
  );
  return {
    cell,
    desired: {
      configCommit: completed?.payload.configCommit,
      desiredDigest: completed?.payload.desiredDigest,
      liveDigestAtSync: completed?.payload.liveDigest,
      lastVerification: verification && {
        seq: verification.seq,
        at: verification.time,
        equal: verification.payload.equal,
        liveDigest: verification.payload.liveDigest,
      },
    },
    drifts: (index.driftsByApp.get(cell.app) ?? []).map((d) => index.driftView(d)).reverse(),
    history,
  };
}

/** Drift, incidents and failed or refused syncs, newest first. */
export function buildTimeline(
  index: EvidenceIndex,
  page: { cursor?: number; limit: number; app?: string },
): Page<TimelineEvent> {
  const events: TimelineEvent[] = [];
  for (const e of index.cache.all('drift.detected')) {
    const p = e.payload;
    const title = `drift on ${p.object}`;
    events.push(
      event(e, p.app, title, `${p.fields.join(', ')} changed by ${p.fieldManager}; ${p.action}`),
    );
  }
  for (const e of index.cache.all('drift.reverted')) {
    events.push(event(e, e.payload.app, `drift reverted on ${e.payload.object}`, ''));
  }
  for (const e of index.cache.all('incident.opened')) {
    const p = e.payload;
    events.push(event(e, p.app, `incident ${p.incident} opened`, `cause: ${p.cause}`));
  }
  for (const e of index.cache.all('incident.resolved')) {
    const app = index.cache
      .all('incident.opened')
      .find((i) => i.payload.incident === e.payload.incident)?.payload.app;
    events.push(event(e, app, `incident ${e.payload.incident} resolved`, e.payload.resolution));
  }
  for (const e of index.cache.all('sync.failed')) {
    events.push(event(e, e.payload.app, 'sync failed', e.payload.reason));
  }
  for (const e of index.cache.all('sync.refused')) {
    events.push(event(e, e.payload.app, `sync refused (${e.payload.code})`, e.payload.reason));
  }
  const filtered = page.app ? events.filter((e) => e.app === page.app) : events;
  return paginate(
    filtered.sort((a, b) => b.seq - a.seq),
    (item) => item.seq,
    page,
  );
}

function event(
  entry: { seq: number; time: string; kind: string },
  app: string | undefined,
  title: string,
  detail: string,
): TimelineEvent {
  return { seq: entry.seq, at: entry.time, kind: entry.kind, app, title, detail };
}

/** Items newest first; the cursor is the seq of the last item already shown. */
export function paginate<T>(
  items: T[],
  seqOf: (item: T) => number,
  page: { cursor?: number; limit: number },
): Page<T> {
  const start =
    page.cursor === undefined ? 0 : items.findIndex((item) => seqOf(item) < page.cursor!);
  const slice = start < 0 ? [] : items.slice(start, start + page.limit);
  const last = slice.at(-1);
  const more = start >= 0 && start + page.limit < items.length;
  return {
    items: slice,
    total: items.length,
    next: more && last ? String(seqOf(last)) : undefined,
  };
}
