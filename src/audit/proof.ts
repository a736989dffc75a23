import type { Evidence, EvidenceIndex } from './evidence-index.ts';
import type { DriftRecord, ProofAnswer } from './types.ts';

/** The stretch of time a deployment was the live one for its application. */
export interface LiveWindow {
  app: string;
  configCommit?: string;
  from: string;
  /** The next deployment of the same application, if there is one. */
  until?: string;
}

/**
 * Does the running cluster match what was approved: the approved, applied and live digests,
 * every verification sealed while this deployment was live, and every drift with its incident
 * and how it ended.
 */
export function answerProof(
  index: EvidenceIndex,
  window: LiveWindow,
  digests: { approved?: string; applied?: string; liveAtSync?: string },
  claimedIncidents: Set<string>,
): ProofAnswer {
  const verifications = index
    .linkedBetween('verification.sealed', 'app', window.app, window.from, window.until)
    .filter((v) => !window.configCommit || v.payload.configCommit === window.configCommit)
    .map((v) => ({
      seq: v.seq,
      at: v.time,
      equal: v.payload.equal,
      desiredDigest: v.payload.desiredDigest,
      liveDigest: v.payload.liveDigest,
    }));
  const drifts = index
    .linkedBetween('drift.detected', 'app', window.app, window.from, window.until)
    .map((d) => describeDrift(index, d, claimedIncidents));
  const proof: ProofAnswer = {
    approvedDigest: digests.approved,
    appliedDigest: digests.applied,
    liveDigestAtSync: digests.liveAtSync,
    verdict: 'consistent',
    reasons: [],
    verifications,
    lastVerifiedEqualAt: verifications.filter((v) => v.equal).at(-1)?.at,
    drifts,
    supersededAt: window.until,
  };
  return judge(proof);
}

/**
 * Where the chain approved = applied = verified live breaks: the digest the CD plane applied is
 * not the one the approvals covered, or a verification held the cluster to another desired state
 * than the one applied, or sealed `equal` over a live digest that is not the desired one. Empty
 * when the digests agree (or when no approved digest was recorded to compare with).
 */
export function digestMismatches(proof: ProofAnswer): string[] {
  const applied = proof.appliedDigest;
  if (!applied) return [];
  const reasons: string[] = [];
  if (proof.approvedDigest && proof.approvedDigest !== applied) {
    reasons.push(`applied ${short(applied)} is not the approved ${short(proof.approvedDigest)}`);
  }
  for (const v of proof.verifications) {
    if (v.desiredDigest !== applied) {
      reasons.push(
        `verification ${v.seq} checked live against ${short(v.desiredDigest)}, not the applied ${short(applied)}`,
      );
    } else if (v.equal && v.liveDigest !== v.desiredDigest) {
      reasons.push(`verification ${v.seq} sealed equal over live ${short(v.liveDigest)}`);
    }
  }
  return reasons;
}

/** Sets the verdict and its reasons on a proof answer just built. */
function judge(proof: ProofAnswer): ProofAnswer {
  if (!proof.appliedDigest) {
    proof.verdict = 'no-evidence';
    proof.reasons = ['no sync record: nothing says what was applied'];
    return proof;
  }
  const reasons = digestMismatches(proof);
  if (proof.liveDigestAtSync && proof.liveDigestAtSync !== proof.appliedDigest) {
    reasons.push(`live ${short(proof.liveDigestAtSync)} differed from applied at sync`);
  }
  for (const v of proof.verifications.filter((v) => !v.equal)) {
    const explained = proof.drifts.some((d) => d.at <= v.at);
    if (!explained)
      reasons.push(`verification ${v.seq} found live ≠ desired with no drift recorded`);
  }
  for (const drift of proof.drifts.filter((d) => !d.reverted && !proof.supersededAt)) {
    reasons.push(`drift ${drift.seq} on ${drift.object} was neither reverted nor superseded`);
  }
  if (proof.verifications.length === 0) reasons.push('no verification sealed since the sync');
  const mismatch = reasons.some((r) => !r.startsWith('no verification'));
  proof.verdict = mismatch ? 'mismatch' : 'consistent';
  proof.reasons = reasons;
  return proof;
}

function describeDrift(
  index: EvidenceIndex,
  drift: Evidence<'drift.detected'>,
  claimedIncidents: Set<string>,
): DriftRecord {
  const { app, object, fields, fieldManager, action } = drift.payload;
  const reverted = index
    .linked('drift.reverted', 'app', app)
    .find((r) => r.payload.object === object && r.seq > drift.seq);
  const incident = incidentFor(index, drift, claimedIncidents);
  const resolved =
    incident && index.first('incident.resolved', 'incident', incident.payload.incident);
  return {
    seq: drift.seq,
    at: drift.time,
    object,
    fields,
    fieldManager,
    action,
    reverted: reverted && { at: reverted.time, seq: reverted.seq },
    incident: incident && {
      id: incident.payload.incident,
      openedAt: incident.time,
      seq: incident.seq,
      resolvedAt: resolved?.time,
      resolution: resolved?.payload.resolution,
      resolvedSeq: resolved?.seq,
    },
  };
}

/**
 * The incident a drift raised: one whose link names the drift entry, else the first drift
 * incident of the application opened after it that no earlier drift has claimed.
 */
function incidentFor(
  index: EvidenceIndex,
  drift: Evidence<'drift.detected'>,
  claimed: Set<string>,
): Evidence<'incident.opened'> | undefined {
  const candidates = index
    .linked('incident.opened', 'app', drift.payload.app)
    .filter(
      (i) => i.payload.cause === 'drift' && i.seq > drift.seq && !claimed.has(i.payload.incident),
    );
  const named = candidates.find((i) => linkNames(i.payload.link, drift.seq));
  const chosen = named ?? candidates[0];
  if (chosen) claimed.add(chosen.payload.incident);
  return chosen;
}

function linkNames(link: string, seq: number): boolean {
  return new RegExp(`(ledger:|entries/|#)${seq}(?![0-9])`).test(link);
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
