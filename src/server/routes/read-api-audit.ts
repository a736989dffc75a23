import type { ChangeproofConfig } from '../../config/schema.ts';
import { ChangeproofError } from '../../errors.ts';
import { digestOf } from './read-api-evidence.ts';
import { summarizeSync, type EvidenceIndex } from './read-api-index.ts';
import type { DeploymentEvidence, Dora } from './read-api-types.ts';

/** Answers who approved a deployment, what it deployed, and whether the cluster matches. */
export function buildDeploymentEvidence(index: EvidenceIndex, id: string): DeploymentEvidence {
  const sync = index.completedByDeployment.get(id);
  if (!sync) {
    throw new ChangeproofError(
      'DEPLOYMENT_UNKNOWN',
      `no completed deployment ${id} in the ledger`,
      {
        category: 'not-found',
      },
    );
  }
  const p = sync.payload;
  const merged = index.mergeByCommit.get(p.configCommit);
  const changeId = p.change ?? merged?.payload.change;
  const entries = new Set<number>([sync.seq]);
  if (merged) entries.add(merged.seq);

  // Who approved: the reviews on the merged head and the change record's approvals.
  const approvals = [
    ...(merged?.payload.approvals ?? []).map((a) => ({
      identity: a.reviewer,
      roles: a.roles,
      at: a.at,
      source: 'review',
      seq: merged!.seq,
    })),
    ...(changeId ? (index.changeApprovals.get(changeId) ?? []) : []).map((a) => {
      entries.add(a.seq);
      return {
        identity: a.payload.approver,
        roles: [a.payload.role],
        at: a.payload.at,
        source: 'change',
        seq: a.seq,
      };
    }),
  ];
  const opened = changeId ? index.changeOpened.get(changeId) : undefined;
  if (opened) entries.add(opened.seq);

  // What: each image with the pipeline run that built, scanned and signed it.
  const images = p.images.map((image) => {
    const delivered = index.deliveryByDigest.get(digestOf(image.digest));
    const started = delivered && index.startedByRun.get(delivered.payload.run);
    if (delivered) entries.add(delivered.seq);
    if (started) entries.add(started.seq);
    return {
      name: image.name,
      digest: digestOf(image.digest),
      signedBy: image.signedBy,
      sourceRepo: started?.payload.sourceRepo,
      sourceCommit: started?.payload.sourceCommit,
      sbomDigest: delivered?.payload.sbomDigest,
      scanVerdict: delivered?.payload.scanVerdict,
      signatureTag: delivered?.payload.signatureTag,
      provenanceBuilder: delivered?.payload.provenanceBuilder,
      seq: delivered?.seq,
    };
  });

  // Does it match: approved, applied and live digests, then every check until the next sync.
  const next = (index.syncsByApp.get(p.app) ?? []).find(
    (s) => s.seq > sync.seq && s.kind === 'sync.completed',
  );
  const within = (seq: number) => seq > sync.seq && (!next || seq < next.seq);
  const verifications = (index.verificationsByApp.get(p.app) ?? [])
    .filter((v) => within(v.seq))
    .map((v) => (entries.add(v.seq), { seq: v.seq, at: v.time, equal: v.payload.equal }));
  const drifts = (index.driftsByApp.get(p.app) ?? [])
    .filter((d) => within(d.seq))
    .map((d) => (entries.add(d.seq), index.driftView(d)));
  const approvedDigest = merged?.payload.desiredDigest;
  const mismatch =
    (approvedDigest !== undefined && approvedDigest !== p.desiredDigest) ||
    p.liveDigest !== p.desiredDigest ||
    verifications.some((v) => !v.equal);

  return {
    deployment: { ...summarizeSync(sync), app: p.app, env: p.env, service: p.service },
    whoApproved: {
      proposal: merged && {
        id: merged.payload.proposal,
        author: merged.payload.author,
        lastPusher: merged.payload.lastPusher,
        mergedBy: merged.payload.mergedBy,
        path: merged.payload.path,
      },
      approvals,
      change: changeId
        ? {
            id: changeId,
            type: opened?.payload.type ?? 'unknown',
            states: (index.changeStates.get(changeId) ?? []).map((s) => ({
              to: s.payload.to,
              seq: s.seq,
            })),
          }
        : undefined,
      separationOfDuties: separationOfDuties(merged?.payload, approvals),
    },
    whatDeployed: { images },
    doesItMatch: {
      approvedDigest,
      appliedDigest: p.desiredDigest,
      liveDigestAtSync: p.liveDigest,
      verdict:
        !merged && verifications.length === 0
          ? 'no-evidence'
          : mismatch
            ? 'mismatch'
            : 'consistent',
      verifications,
      drifts,
    },
    evidence: index.badgeOf(sync),
    entries: [...entries].sort((a, b) => a - b),
  };
}

function separationOfDuties(
  merged: { author: string; lastPusher: string; path: string } | undefined,
  approvals: { identity: string }[],
): DeploymentEvidence['whoApproved']['separationOfDuties'] {
  if (!merged)
    return { verdict: 'no-evidence', reasons: ['no merge of the deployed commit in the ledger'] };
  if (merged.path === 'automatic')
    return { verdict: 'pass', reasons: ['approved automatically on green checks'] };
  const reasons = approvals.flatMap((a) => [
    ...(a.identity === merged.author ? [`${a.identity} approved their own change`] : []),
    ...(a.identity === merged.lastPusher && a.identity !== merged.author
      ? [`${a.identity} approved after pushing to it`]
      : []),
  ]);
  if (approvals.length === 0) reasons.push('no approval recorded');
  return { verdict: reasons.length ? 'fail' : 'pass', reasons };
}

const DAY = 86_400_000;

/** DORA over the production environments (or `envs`) for the last `days` days up to `now`. */
export function buildDora(
  index: EvidenceIndex,
  config: ChangeproofConfig,
  options: { days: number; envs?: string[]; now?: Date },
): Dora {
  const envs = options.envs?.length
    ? options.envs
    : config.environments.filter((env) => env.production).map((env) => env.name);
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - options.days * DAY);
  const inScope = (env: string, at: string) =>
    envs.includes(env) && at >= from.toISOString() && at <= to.toISOString();
  const days = new Map<string, Dora['days'][number] & { leads: number[] }>();
  for (let t = from.getTime(); t <= to.getTime(); t += DAY) {
    const date = new Date(t).toISOString().slice(0, 10);
    days.set(date, { date, deployments: 0, failures: 0, leads: [] });
  }
  const dayOf = (at: string) => days.get(at.slice(0, 10));

  const deployments = index.cache
    .all('sync.completed')
    .filter((s) => inScope(s.payload.env, s.payload.finishedAt));
  const leads: number[] = [];
  for (const sync of deployments) {
    const day = dayOf(sync.payload.finishedAt);
    if (day) day.deployments += 1;
    const lead = leadTimeHours(index, sync.payload.images, sync.payload.finishedAt);
    if (lead !== undefined) {
      leads.push(lead);
      day?.leads.push(lead);
    }
  }
  const failures = failedDeployments(index, new Set(deployments.map((d) => d.payload.deployment)));
  for (const failure of index.cache.all('sync.failed')) {
    const env = failure.payload.app.split('/')[0] ?? '';
    if (!inScope(env, failure.time)) continue;
    failures.add(failure.payload.deployment);
    const day = dayOf(failure.time);
    if (day) day.failures += 1;
  }
  const restores = index.cache
    .all('incident.opened')
    .filter((i) => inScope(i.payload.app.split('/')[0] ?? '', i.time))
    .flatMap((i) => {
      const resolved = index.resolutions.get(i.payload.incident);
      return resolved ? [(Date.parse(resolved.time) - Date.parse(i.time)) / 3_600_000] : [];
    });
  const attempts =
    deployments.length +
    index.cache.all('sync.failed').filter((f) => inScope(f.payload.app.split('/')[0] ?? '', f.time))
      .length;
  return {
    envs,
    from: from.toISOString(),
    to: to.toISOString(),
    days: [...days.values()].map(({ leads: dayLeads, ...day }) => ({
      ...day,
      leadTimeHours: median(dayLeads),
    })),
    deployments: deployments.length,
    medianLeadTimeHours: median(leads),
    changeFailureRate: attempts ? failures.size / attempts : undefined,
    meanTimeToRestoreHours: restores.length
      ? restores.reduce((a, b) => a + b, 0) / restores.length
      : undefined,
  };
}

/** Hours from the source commit (or the pipeline's start) to the deployment. */
function leadTimeHours(
  index: EvidenceIndex,
  images: { digest: string }[],
  deployedAt: string,
): number | undefined {
  const starts = images.flatMap((image) => {
    const delivered = index.deliveryByDigest.get(digestOf(image.digest));
    const started = delivered && index.startedByRun.get(delivered.payload.run);
    return started ? [Date.parse(started.payload.sourceCommittedAt ?? started.time)] : [];
  });
  if (starts.length === 0) return undefined;
  return (Date.parse(deployedAt) - Math.min(...starts)) / 3_600_000;
}

/** Deployments an incident was raised against. */
function failedDeployments(index: EvidenceIndex, deployments: Set<string>): Set<string> {
  const failed = new Set<string>();
  for (const incident of index.cache.all('incident.opened')) {
    const deployment = incident.payload.deployment;
    if (deployment && deployments.has(deployment)) failed.add(deployment);
  }
  return failed;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
