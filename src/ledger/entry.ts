import { hash } from 'node:crypto';
import { canonicalize, type JsonValue } from './canonical.ts';

/** The hash that precedes the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller records: the decision, about what, by whom, with its inputs. */
export interface LedgerRecord {
  /** Dotted kind, e.g. `delivery.step`, `change.approved`, `sync.completed`, `drift.detected`. */
  kind: string;
  /** What the entry is about, e.g. `deployment:prod/checkout/42` or `proposal:17`. */
  subject: string;
  /** Who made the decision: an identity, `pipeline:<run>`, or `system:<component>`. */
  actor: string;
  payload: { [key: string]: JsonValue };
}

/** An entry as stored: the record with its place in the chain. */
export interface LedgerEntry extends LedgerRecord {
  seq: number;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  /** Hex SHA-256 of the previous entry, or {@link GENESIS_HASH}. */
  prev: string;
  /** Hex SHA-256 of the canonical JSON of this entry without `hash`. */
  hash: string;
}

export function hashEntry(entry: Omit<LedgerEntry, 'hash'>): string {
  return hashStoredEntry({ ...entry, payloadJson: canonicalize(entry.payload) });
}

/** An entry as stored: the payload kept as its canonical JSON text. */
export interface StoredEntryParts {
  seq: number;
  time: string;
  kind: string;
  subject: string;
  actor: string;
  payloadJson: string;
  prev: string;
}

/**
 * The hash of a stored entry without parsing its payload: the canonical JSON of the entry is
 * assembled with the keys in RFC 8785 order around the stored canonical payload text. A payload
 * stored in any other form no longer hashes to the entry's hash, which is what we want.
 */
export function hashStoredEntry(parts: StoredEntryParts): string {
  const q = JSON.stringify;
  const canonical =
    `{"actor":${q(parts.actor)},"kind":${q(parts.kind)},"payload":${parts.payloadJson},` +
    `"prev":${q(parts.prev)},"seq":${parts.seq},"subject":${q(parts.subject)},"time":${q(parts.time)}}`;
  return hash('sha256', canonical, 'hex');
}

/** Builds the next entry of the chain after `previous` (or the first one). */
export function chainEntry(
  record: LedgerRecord,
  previous: { seq: number; hash: string } | undefined,
  time: Date,
): LedgerEntry {
  const unhashed = {
    seq: previous ? previous.seq + 1 : 1,
    time: time.toISOString(),
    kind: record.kind,
    subject: record.subject,
    actor: record.actor,
    payload: record.payload,
    prev: previous ? previous.hash : GENESIS_HASH,
  };
  return { ...unhashed, hash: hashEntry(unhashed) };
}
