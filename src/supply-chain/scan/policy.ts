import { SupplyChainError } from '../supply-chain-error.ts';
import type { Finding } from './finding.ts';
import { severities, type Severity } from './severity.ts';

/** What blocks a build: critical findings (default), critical and high, or nothing. */
export type ScanPolicy = 'block-critical' | 'block-high' | 'warn';

/** An accepted risk: findings with this id stop counting until it expires. */
export interface ScanException {
  /** Advisory id (e.g. GHSA-…) or rule id (e.g. K8S-RUN-AS-ROOT). */
  id: string;
  reason: string;
  approver: string;
  /** RFC 3339 time; at and after it the exception no longer applies. */
  expires: string;
}

export interface ScanVerdict {
  verdict: 'pass' | 'blocked';
  policy: ScanPolicy;
  /** Findings not covered by an active exception, by severity. */
  counts: Record<Severity, number>;
  /** All findings, each with the id of the exception that covers it, if any. */
  findings: (Finding & { exceptedBy?: string })[];
  /** Active exceptions with how many findings each covered. */
  exceptionsApplied: (ScanException & { findings: number })[];
  exceptionsExpired: ScanException[];
}

const blockingSeverities: Record<ScanPolicy, readonly Severity[]> = {
  'block-critical': ['critical'],
  'block-high': ['critical', 'high'],
  warn: [],
};

/** Reads a policy name; unknown names are a usage error. */
export function parseScanPolicy(value: string | undefined): ScanPolicy {
  if (value === undefined) return 'block-critical';
  if (value in blockingSeverities) return value as ScanPolicy;
  throw new SupplyChainError(
    'POLICY_INVALID',
    `scan policy ${value} is unknown; use block-critical, block-high or warn`,
  );
}

/**
 * Checks exceptions from configuration: every one needs an id, a reason, an approver and a
 * valid expiry. The first bad one is reported by its position and id.
 */
export function parseScanExceptions(raw: readonly unknown[]): ScanException[] {
  return raw.map((value, index) => {
    const entry = (value ?? {}) as Partial<Record<keyof ScanException, unknown>>;
    const label = `scan exception ${index + 1}${typeof entry.id === 'string' ? ` (${entry.id})` : ''}`;
    for (const key of ['id', 'reason', 'approver', 'expires'] as const) {
      const field = entry[key];
      if (typeof field !== 'string' || field.trim() === '') {
        throw new SupplyChainError(
          'EXCEPTION_INVALID',
          `${label} has no ${key}; every exception needs id, reason, approver and expires`,
        );
      }
    }
    if (Number.isNaN(Date.parse(entry.expires as string))) {
      throw new SupplyChainError(
        'EXCEPTION_INVALID',
        `${label} expires ${String(entry.expires)} is not a date`,
      );
    }
    return {
      id: entry.id,
      reason: entry.reason,
      approver: entry.approver,
      expires: entry.expires,
    } as ScanException;
  });
}

/** Applies the policy and the unexpired exceptions to the findings. */
export function evaluatePolicy(
  findings: readonly Finding[],
  policy: ScanPolicy,
  exceptions: readonly ScanException[],
  now: Date,
): ScanVerdict {
  const valid = parseScanExceptions(exceptions);
  const active = valid.filter((exception) => Date.parse(exception.expires) > now.getTime());
  const expired = valid.filter((exception) => !active.includes(exception));

  const judged = findings.map((finding): ScanVerdict['findings'][number] => {
    const exception = active.find((candidate) => candidate.id === finding.id);
    return exception ? { ...finding, exceptedBy: exception.id } : { ...finding };
  });
  const open = judged.filter((finding) => finding.exceptedBy === undefined);
  const counts = Object.fromEntries(
    severities.map((s) => [s, open.filter((f) => f.severity === s).length]),
  ) as Record<Severity, number>;
  const blocked = blockingSeverities[policy].some((severity) => counts[severity] > 0);

  return {
    verdict: blocked ? 'blocked' : 'pass',
    policy,
    counts,
    findings: judged,
    exceptionsApplied: active
      .map((exception) => ({
        ...exception,
        findings: judged.filter((f) => f.exceptedBy === exception.id).length,
      }))
      .filter((applied) => applied.findings > 0),
    exceptionsExpired: expired,
  };
}
