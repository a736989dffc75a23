import type { JsonValue } from '../ledger/canonical.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import type { Ledger } from '../ledger/ledger.ts';

/**
 * The evidence model: every kind of ledger entry changeproof writes, with its subject convention
 * and payload. The audit reads exactly these, so a producer and the audit agree by type, not by
 * convention. Subjects:
 *   `run:<id>`                      a delivery run (CI plane)
 *   `image:<sha256:…>`              an artifact
 *   `proposal:<id>`                 a proposal against the config repo
 *   `change:<number>`               a change record
 *   `app:<env>/<service>`           an application (one service in one environment)
 *   `deployment:<env>/<service>/<n>` one sync of an application
 *   `incident:<id>`, `lease:<id>`, `workspace:<name>`
 *   `user:<name>`, `identity:unauthenticated`  identity decisions
 *   `registry:embedded`             the embedded OCI registry
 * Times inside payloads are ISO 8601 UTC. Secrets never appear in a payload.
 */
export interface EvidencePayloads {
  // CI plane
  'delivery.started': {
    run: string;
    service: string;
    env: string;
    sourceRepo: string;
    sourceCommit: string;
    dirty: boolean;
    /** Committer time of `sourceCommit`; DORA lead time starts here (else at the run's start). */
    sourceCommittedAt?: string;
  };
  'delivery.step': {
    run: string;
    step: 'test' | 'build' | 'sbom' | 'scan' | 'push' | 'sign' | 'attest' | 'propose';
    status: 'passed' | 'failed' | 'skipped';
    durationMs: number;
    inputs: { [key: string]: JsonValue };
    outputs: { [key: string]: JsonValue };
    reason?: string;
  };
  'delivery.completed': {
    run: string;
    service: string;
    env: string;
    image: string; // ref@sha256:…
    sbomDigest: string;
    scanVerdict: 'pass' | 'blocked';
    signatureTag: string;
    attestationTag: string;
    proposal: string;
    leases: string[];
    clusterCredentialsHeld: false;
    /** `runDetails.builder.id` of the SLSA provenance attached to the image. */
    provenanceBuilder?: string;
  };
  'delivery.failed': {
    run: string;
    service: string;
    env: string;
    step: string;
    reason: string;
    code: string;
  };

  // Review and change management
  'proposal.opened': {
    proposal: string;
    service: string;
    env: string;
    author: string;
    branch: string;
    headCommit: string;
    baseCommit: string;
    routine: boolean;
    changedPaths: string[];
    image?: string;
  };
  'proposal.pushed': {
    proposal: string;
    pusher: string;
    headCommit: string;
    dismissedApprovals: string[];
  };
  'proposal.reviewed': {
    proposal: string;
    reviewer: string;
    roles: string[];
    state: 'approved' | 'changes_requested' | 'commented';
    commit: string;
  };
  'proposal.merged': {
    proposal: string;
    service: string;
    env: string;
    headCommit: string;
    mergeCommit: string;
    mergedBy: string;
    author: string;
    lastPusher: string;
    approvals: { reviewer: string; roles: string[]; commit: string; at: string }[];
    change?: string;
    path: 'normal' | 'emergency' | 'break-glass' | 'automatic';
    /**
     * Digest of the desired state of `<env>/<service>` rendered at `headCommit`: what the
     * approvals cover, equal to the `desiredDigest` the CD plane then applies.
     */
    desiredDigest?: string;
    /** The same for every application the proposal changes (`app` is `<env>/<service>`). */
    desiredDigests?: { app: string; digest: string }[];
    /** Who signed the merge commit (key id or identity); absent when it is unsigned. */
    commitSignedBy?: string;
    /**
     * Set when the merge's entry was written on recovery, after a crash between the merge and its
     * evidence: the approvals are those the forge had stored for the merged head.
     */
    recovered?: boolean;
  };
  'proposal.refused': {
    proposal: string;
    actor: string;
    action: string;
    code: string;
    reason: string;
  };
  'gate.verdict': {
    proposal: string;
    commit: string;
    context: string;
    state: 'success' | 'failure' | 'pending';
    rule: string;
    inputs: { [key: string]: JsonValue };
  };
  'change.opened': {
    change: string;
    type: 'standard' | 'normal' | 'emergency';
    proposal: string;
    service: string;
    env: string;
    artifact?: string;
    sbomDigest?: string;
    signer?: string;
    scanVerdict?: string;
    retroactive?: boolean;
  };
  'change.approved': { change: string; approver: string; role: string; at: string };
  'change.state': { change: string; from: string; to: string; stateCode: number; reason?: string };
  'change.emergency': {
    change: string;
    proposal: string;
    declaredBy: string;
    reason: string;
    reviewDueBy: string;
  };
  'change.break-glass': {
    proposal: string;
    actor: string;
    /** The roles the actor held when breaking glass (absent in entries written before). */
    roles?: string[];
    reason: string;
    system: string;
    /** The proposal head the override was declared on. */
    headCommit?: string;
    /** Set when the on-call engineer who broke glass wrote or last pushed the proposal. */
    selfApproved?: boolean;
  };
  'change.retro-reviewed': {
    change: string;
    reviewer: string;
    outcome: 'accepted' | 'rejected';
    notes?: string;
  };

  // CD plane
  'sync.started': {
    deployment: string;
    app: string;
    configCommit: string;
    change?: string;
    initiator: string;
  };
  'sync.refused': {
    app: string;
    configCommit: string;
    code: string;
    reason: string;
    images: string[];
  };
  'sync.completed': {
    deployment: string;
    app: string;
    env: string;
    service: string;
    configCommit: string;
    change?: string;
    images: { name: string; digest: string; signedBy?: string }[];
    desiredDigest: string;
    liveDigest: string;
    startedAt: string;
    finishedAt: string;
    initiator: string;
    health: string;
  };
  'sync.failed': {
    deployment: string;
    app: string;
    configCommit: string;
    reason: string;
    rolledBackTo?: string;
  };
  'drift.detected': {
    app: string;
    object: string; // kind/namespace/name
    fields: string[];
    diff: string; // redacted
    fieldManager: string;
    desiredDigest: string;
    action: 'reverted' | 'detect-only';
  };
  'drift.reverted': { app: string; object: string; desiredDigest: string };
  'incident.opened': {
    incident: string;
    app: string;
    cause: 'drift' | 'sync-failure';
    link: string;
    /** The deployment or change the incident is about, when known (DORA change failure rate). */
    deployment?: string;
    change?: string;
  };
  'incident.resolved': { incident: string; resolution: string };
  'verification.sealed': {
    app: string;
    configCommit: string;
    desiredDigest: string;
    liveDigest: string;
    equal: boolean;
    attestation: { [key: string]: JsonValue }; // DSSE envelope signed by the control plane
  };
  'cluster.change-observed': {
    app: string;
    object: string;
    fieldManager: string;
    generation: number;
  };
  'rollback.requested': { app: string; toCommit: string; proposal: string; reason: string };

  // Identity
  /**
   * A presented token refused (forged, unknown, revoked, expired, or for a user no longer
   * configured). Never the token nor any part of its secret: at most the id of the stored token it
   * named, which is public (`identity.token-issued` records it too). Subject `user:<name>` when
   * the token named a stored one, else `identity:unauthenticated`.
   */
  'identity.token-refused': {
    /** The error the caller got. */
    code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'UNKNOWN_USER';
    /** Why, more precisely than the caller is told. */
    reason: TokenRefusalReason;
    /** The user the stored token was issued to. */
    user?: string;
    /** The stored token's id. */
    token?: string;
    /** Identical refusals left unrecorded since the previous entry for this reason and token. */
    suppressed?: number;
  };

  // Embedded registry
  /**
   * A request the embedded registry refused as malformed or hostile: a repository name that is
   * not one (path traversal), a bad tag or digest, a manifest that does not parse or lies about
   * its digest, a body over the size limit. Never the body: at most the repository name as sent,
   * cut short. Rate-limited per code, like `identity.token-refused`.
   */
  'registry.refused': {
    code: RegistryRefusalCode;
    /** The HTTP status the sender got. */
    status: number;
    method: string;
    /** The distribution API endpoint asked for: `manifest`, `blob`, `upload`, ... */
    endpoint: string;
    /** The repository name as sent, control characters dropped, at most 128 characters. */
    name?: string;
    reason: string;
    /** Refusals with the same code left unrecorded since the previous entry for it. */
    suppressed?: number;
  };

  // Secret broker (subject `lease:<id>`), as the embedded broker already writes them
  'broker.lease.opened': {
    id: string;
    holder: string;
    scopes: string[];
    issuedAt: string;
    expiresAt: string;
    ttlSeconds: number;
  };
  'broker.lease.revoked': { id: string; holder: string; revokedAt: string };
}

export type EvidenceKind = keyof EvidencePayloads;

/** The registry refusals the ledger records; see `registry.refused`. */
export type RegistryRefusalCode =
  'NAME_INVALID' | 'TAG_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_INVALID' | 'SIZE_INVALID';

/** Why a presented token was refused; see `identity.token-refused`. */
export type TokenRefusalReason =
  'malformed' | 'unknown-token' | 'wrong-secret' | 'revoked' | 'expired' | 'unknown-user';

/** Appends one piece of evidence, typed by its kind. */
export function recordEvidence<K extends EvidenceKind>(
  ledger: Ledger,
  kind: K,
  subject: string,
  actor: string,
  payload: EvidencePayloads[K],
): Promise<LedgerEntry> {
  return ledger.append({
    kind,
    subject,
    actor,
    payload: payload as unknown as { [key: string]: JsonValue },
  });
}

/** Reads an entry's payload as the kind it says it is. */
export function evidenceOf<K extends EvidenceKind>(
  entry: LedgerEntry,
  kind: K,
): EvidencePayloads[K] | undefined {
  return entry.kind === kind ? (entry.payload as unknown as EvidencePayloads[K]) : undefined;
}
