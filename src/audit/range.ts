import { AuditError } from './errors.ts';

/** A half-open period `[from, to)` in UTC. */
export interface AuditRange {
  from: Date;
  to: Date;
  /** As the caller wrote it, for reports. */
  label: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * Reads `--from` and `--to`. A bare date is a whole UTC day, so `--to 2026-09-30` includes the
 * 30th; a full ISO timestamp is taken as is. An inverted or zero-length range is refused.
 */
export function parseAuditRange(from: string | undefined, to: string | undefined): AuditRange {
  const start = from === undefined ? new Date(0) : parseBound(from, '--from', false);
  const end = to === undefined ? new Date(8.64e15) : parseBound(to, '--to', true);
  if (end.getTime() <= start.getTime()) {
    throw new AuditError(
      'RANGE_INVERTED',
      `--from ${from} is not before --to ${to}: give the earlier date first`,
      { category: 'usage' },
    );
  }
  return { from: start, to: end, label: `${from ?? 'the beginning'} to ${to ?? 'now'}` };
}

/** A range covering everything: for the demo and for whole-ledger questions. */
export function allTime(): AuditRange {
  return parseAuditRange(undefined, undefined);
}

export function inRange(range: AuditRange, iso: string): boolean {
  const time = Date.parse(iso);
  return time >= range.from.getTime() && time < range.to.getTime();
}

function parseBound(value: string, flag: string, endOfDay: boolean): Date {
  const time = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new AuditError(
      'RANGE_INVALID',
      `${flag} ${value} is not a date: use YYYY-MM-DD or an ISO 8601 time`,
      { category: 'usage' },
    );
  }
  return new Date(DATE_ONLY.test(value) && endOfDay ? time + DAY_MS : time);
}
