import type { ChangeproofConfig } from '../config/schema.ts';
import { answerApproval, linkApproval } from './approval.ts';
import { answerArtifact } from './artifact.ts';
import { AuditError } from './errors.ts';
import type { Evidence, EvidenceIndex } from './evidence-index.ts';
import { buildPopulation, envOfApp, serviceOfApp, type PopulationItem } from './population.ts';
import { answerProof } from './proof.ts';
import { inRange, type AuditRange } from './range.ts';
import type { AuditedDeployment, ApprovalAnswer } from './types.ts';

export interface AuditScope {
  range: AuditRange;
  /** Environment names; every production environment of the config when empty. */
  envs: string[];
  service?: string;
}

/** The environments a scope covers, checked against the config. */
export function scopeEnvironments(config: ChangeproofConfig, envs: string[]): Set<string> {
  const known = new Map(config.environments.map((env) => [env.name, env]));
  for (const name of envs) {
    if (!known.has(name)) {
      throw new AuditError(
        'UNKNOWN_ENVIRONMENT',
        `no environment ${name} in changeproof.yaml; known: ${[...known.keys()].join(', ')}`,
        { category: 'usage' },
      );
    }
  }
  if (envs.length > 0) return new Set(envs);
  return new Set(config.environments.filter((env) => env.production).map((env) => env.name));
}

/**
 * Answers the auditor's three questions for every deployment in scope, oldest first. The
 * population comes from the CD plane's syncs and the cluster's change events, so a change that
 * never had a change record still appears, with its approval answered as missing.
 */
export function auditDeployments(
  index: EvidenceIndex,
  config: ChangeproofConfig,
  scope: AuditScope,
): AuditedDeployment[] {
  const envs = scopeEnvironments(config, scope.envs);
  const timelines = deploymentTimelines(index);
  const claimedIncidents = new Set<string>();
  return buildPopulation(index, envs)
    .map((item) => answerItem(index, config, item, timelines, claimedIncidents))
    .filter((d) => inRange(scope.range, d.deployedAt))
    .filter((d) => !scope.service || d.service === scope.service)
    .sort((a, b) =>
      a.deployedAt < b.deployedAt ? -1 : a.deployedAt > b.deployedAt ? 1 : a.seq - b.seq,
    );
}

/** Refuses an empty population with the reason, so an auditor never mistakes nothing for clean. */
export function requirePopulation(
  deployments: AuditedDeployment[],
  index: EvidenceIndex,
  scope: AuditScope,
): void {
  if (deployments.length > 0) return;
  const syncs = index.all('sync.completed');
  const span = syncs.length
    ? `; the ledger holds deployments from ${syncs[0]!.payload.finishedAt} to ${syncs.at(-1)!.payload.finishedAt}`
    : '; the ledger holds no deployment yet';
  throw new AuditError(
    'EMPTY_POPULATION',
    `no deployments in ${scope.envs.join(', ') || 'the production environments'} from ${scope.range.label}${span}`,
    { category: 'not-found' },
  );
}

/** For each application, its deployment times in order: a deployment is live until the next. */
function deploymentTimelines(index: EvidenceIndex): Map<string, string[]> {
  const timelines = new Map<string, string[]>();
  for (const sync of index.all('sync.completed')) {
    const list = timelines.get(sync.payload.app) ?? [];
    list.push(iso(sync.payload.finishedAt));
    timelines.set(sync.payload.app, list);
  }
  for (const list of timelines.values()) list.sort();
  return timelines;
}

/** The first time in the sorted `times` later than `time`, by binary search. */
function firstAfter(times: string[], time: string): string | undefined {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle]! <= time) low = middle + 1;
    else high = middle;
  }
  return times[low];
}

function answerItem(
  index: EvidenceIndex,
  config: ChangeproofConfig,
  item: PopulationItem,
  timelines: Map<string, string[]>,
  claimedIncidents: Set<string>,
): AuditedDeployment {
  return item.source === 'cd-plane'
    ? answerSync(index, config, item.sync, timelines, claimedIncidents)
    : answerClusterChange(item.observations);
}

function answerSync(
  index: EvidenceIndex,
  config: ChangeproofConfig,
  sync: Evidence<'sync.completed'>,
  timelines: Map<string, string[]>,
  claimedIncidents: Set<string>,
): AuditedDeployment {
  const p = sync.payload;
  const deployedAt = iso(p.finishedAt);
  const links = linkApproval(index, p.configCommit, p.change);
  const approval = answerApproval(index, config, links);
  const artifact = answerArtifact(index, p.images);
  const until = firstAfter(timelines.get(p.app) ?? [], deployedAt);
  const proof = answerProof(
    index,
    { app: p.app, configCommit: p.configCommit, from: deployedAt, until },
    {
      approved: approvedDigestFor(links.merged, p.app),
      applied: p.desiredDigest,
      liveAtSync: p.liveDigest,
    },
    claimedIncidents,
  );
  const rollback = links.proposalId
    ? index.last('rollback.requested', 'proposal', links.proposalId)
    : undefined;
  const deployment: AuditedDeployment = {
    id: p.deployment,
    source: 'cd-plane',
    env: p.env,
    service: p.service,
    app: p.app,
    deployedAt,
    syncStartedAt: iso(p.startedAt),
    seq: sync.seq,
    configCommit: p.configCommit,
    initiator: p.initiator,
    rollback: rollback && { seq: rollback.seq, ...rollback.payload },
    approval,
    artifact,
    proof,
    evidence: [],
  };
  const started = index.linked('sync.started', 'deployment', p.deployment);
  deployment.evidence = evidenceSeqs(deployment, [sync.seq, ...started.map((s) => s.seq)]);
  return deployment;
}

/**
 * The desired-state digest the merge's approvals covered for `app`. A merge that lists its
 * applications answers for those alone; an older entry with one digest answers for its own.
 */
function approvedDigestFor(
  merged: Evidence<'proposal.merged'> | undefined,
  app: string,
): string | undefined {
  const perApp = merged?.payload.desiredDigests;
  if (perApp) return perApp.find((d) => d.app === app)?.digest;
  return merged?.payload.desiredDigest;
}

function answerClusterChange(
  observations: Evidence<'cluster.change-observed'>[],
): AuditedDeployment {
  const first = observations[0]!;
  const app = first.payload.app;
  const approval: ApprovalAnswer = {
    approvals: [],
    separationOfDuties: {
      verdict: 'no-evidence',
      reasons: [
        `changed on the cluster by ${first.payload.fieldManager} with no sync, proposal or change record`,
      ],
    },
  };
  const deployment: AuditedDeployment = {
    id: `cluster:${app}@${first.seq}`,
    source: 'cluster',
    env: envOfApp(app),
    service: serviceOfApp(app),
    app,
    deployedAt: first.time,
    seq: first.seq,
    initiator: first.payload.fieldManager,
    approval,
    artifact: { images: [], sourceCommits: [] },
    proof: {
      verdict: 'no-evidence',
      reasons: [
        `objects changed outside the CD plane: ${observations.map((o) => o.payload.object).join(', ')}`,
      ],
      verifications: [],
      drifts: [],
    },
    evidence: observations.map((o) => o.seq),
  };
  return deployment;
}

/** Every entry the answer rests on, ascending, without duplicates. */
function evidenceSeqs(d: AuditedDeployment, extra: number[]): number[] {
  const seqs = new Set<number>(extra);
  const add = (seq: number | undefined) => seq !== undefined && seq > 0 && seqs.add(seq);
  const { change, proposal, breakGlass, approvals } = d.approval;
  add(change?.seq);
  change?.states.forEach((s) => add(s.seq));
  add(change?.emergency?.seq);
  add(change?.retroReview?.seq);
  add(proposal?.seq);
  add(proposal?.gate?.seq);
  proposal?.refusals.forEach((r) => add(r.seq));
  add(breakGlass?.seq);
  approvals.forEach((a) => add(a.seq));
  d.artifact.images.forEach((i) => add(i.seq));
  d.proof.verifications.forEach((v) => add(v.seq));
  for (const drift of d.proof.drifts) {
    add(drift.seq);
    add(drift.reverted?.seq);
    add(drift.incident?.seq);
    add(drift.incident?.resolvedSeq);
  }
  add(d.rollback?.seq);
  return [...seqs].sort((a, b) => a - b);
}

function iso(time: string): string {
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? time : new Date(parsed).toISOString();
}
