import type { EvidenceKind, EvidencePayloads } from '../domain/evidence.ts';

/**
 * The payload fields the audit reads, per kind of entry it reads. Everything else (diffs, gate
 * inputs, attestation envelopes, branch names) is dropped as each row is read: the ledger keeps
 * it and packs carry it, but holding it for every entry of a quarter would cost the audit most of
 * its memory. The types below are built from this table, so code that reads a field not kept
 * here does not compile. A kind whose payload is copied whole into an answer keeps every field.
 * `delivery.step` is left out: its results are in `delivery.completed`.
 */
export const AUDITED_FIELDS = {
  'delivery.started': ['sourceRepo', 'sourceCommit', 'sourceCommittedAt'],
  'delivery.completed': [
    'sbomDigest',
    'scanVerdict',
    'signatureTag',
    'attestationTag',
    'provenanceBuilder',
    'leases',
    'clusterCredentialsHeld',
  ],
  'delivery.failed': [],
  'proposal.opened': ['author', 'headCommit', 'routine', 'changedPaths'],
  'proposal.pushed': ['headCommit', 'pusher'],
  'proposal.reviewed': ['reviewer', 'roles', 'state', 'commit'],
  'proposal.merged': [
    'author',
    'lastPusher',
    'mergedBy',
    'path',
    'approvals',
    'desiredDigest',
    'desiredDigests',
    'commitSignedBy',
  ],
  'proposal.refused': ['actor', 'code', 'reason'],
  'gate.verdict': ['commit', 'state', 'rule'],
  'change.opened': ['type', 'retroactive'],
  'change.approved': ['approver', 'role', 'at'],
  'change.state': ['to'],
  'change.emergency': ['declaredBy', 'reason', 'reviewDueBy'],
  // Copied whole into the answer's break-glass record.
  'change.break-glass': ['proposal', 'actor', 'roles', 'reason', 'system', 'selfApproved'],
  'change.retro-reviewed': ['reviewer', 'outcome'],
  'sync.started': [],
  'sync.refused': [],
  'sync.completed': [
    'env',
    'service',
    'images',
    'desiredDigest',
    'liveDigest',
    'startedAt',
    'finishedAt',
    'initiator',
  ],
  'sync.failed': [],
  'drift.detected': ['object', 'fields', 'fieldManager', 'action'],
  'drift.reverted': ['object'],
  'incident.opened': ['cause', 'link'],
  'incident.resolved': ['resolution'],
  'verification.sealed': ['equal', 'desiredDigest', 'liveDigest'],
  'cluster.change-observed': ['object', 'fieldManager'],
  // Copied whole into the answer's rollback record.
  'rollback.requested': ['app', 'toCommit', 'proposal', 'reason'],
  'broker.lease.opened': ['ttlSeconds', 'scopes'],
  'broker.lease.revoked': [],
} as const satisfies { [K in EvidenceKind]?: readonly (keyof EvidencePayloads[K])[] };

/**
 * The payload fields that link evidence together, kept on every kind that has them so that any
 * join the audit makes finds what the full payload would give. `commit:` and `digest:` keys are
 * derived from the commit fields and the image reference.
 */
export const LINK_FIELDS = [
  'run',
  'proposal',
  'change',
  'app',
  'incident',
  'deployment',
  'id',
  'mergeCommit',
  'headCommit',
  'configCommit',
  'image',
] as const;

export type AuditedKind = keyof typeof AUDITED_FIELDS;

/** What the audit holds of a payload of kind `K`: its audited fields and its links. */
export type AuditedPayload<K extends AuditedKind> = Pick<
  EvidencePayloads[K],
  ((typeof AUDITED_FIELDS)[K][number] | (typeof LINK_FIELDS)[number]) & keyof EvidencePayloads[K]
>;

export const AUDITED_KINDS = Object.keys(AUDITED_FIELDS) as AuditedKind[];

const KEPT = new Map<string, readonly string[]>(
  AUDITED_KINDS.map((kind) => [kind, [...new Set([...AUDITED_FIELDS[kind], ...LINK_FIELDS])]]),
);

const KINDS = new Map<string, AuditedKind>(AUDITED_KINDS.map((kind) => [kind, kind]));

/**
 * The kind as one shared string if the audit reads it, else undefined; each row read brings its
 * own copy of the kind, and 150,000 copies of a dozen names are worth not keeping.
 */
export function auditedKind(kind: string): AuditedKind | undefined {
  return KINDS.get(kind);
}

/**
 * Parses a stored payload and keeps only what the audit reads of its kind. Long strings (digests,
 * commits, image references) recur across kinds, and each parse makes its own copy: `shared`
 * hands back the copy kept first.
 */
export function projectPayload(
  kind: AuditedKind,
  payloadJson: string,
  shared: Map<string, string>,
): Record<string, unknown> {
  const full = JSON.parse(payloadJson) as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const field of KEPT.get(kind)!) {
    if (!Object.hasOwn(full, field)) continue;
    const value = full[field];
    kept[field] = typeof value === 'string' && value.length >= 32 ? share(shared, value) : value;
  }
  return kept;
}

function share(shared: Map<string, string>, value: string): string {
  const kept = shared.get(value);
  if (kept !== undefined) return kept;
  shared.set(value, value);
  return value;
}
