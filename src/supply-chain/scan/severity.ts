/** Severity levels of findings, highest first. */
export const severities = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof severities)[number];

/** `CRITICAL`/`HIGH`/`MODERATE`/`MEDIUM`/`LOW` (GitHub advisory database words) → a level. */
export function severityFromWord(word: unknown): Severity | undefined {
  if (typeof word !== 'string') return undefined;
  const normalised = word.trim().toLowerCase();
  if (normalised === 'moderate') return 'medium';
  return (severities as readonly string[]).includes(normalised)
    ? (normalised as Severity)
    : undefined;
}

/** CVSS v3 qualitative rating of a score (0.1–3.9 low, 4–6.9 medium, 7–8.9 high, 9+ critical). */
export function severityFromScore(score: number): Severity | undefined {
  if (!Number.isFinite(score) || score <= 0) return undefined;
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

/** A representative score for a level, for SARIF `security-severity` when no CVSS is known. */
export function scoreOfSeverity(severity: Severity): number {
  return { critical: 9.5, high: 8, medium: 5.5, low: 2 }[severity];
}

const weights = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/**
 * CVSS v3.0/v3.1 base score from a vector such as `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`
 * (FIRST specification, section 7); undefined for other versions or malformed vectors.
 */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const metrics = Object.fromEntries(
    parts.slice(1).map((part) => part.split(':') as [string, string]),
  );
  const scopeChanged = metrics.S === 'C';
  const av = lookup(weights.AV, metrics.AV);
  const ac = lookup(weights.AC, metrics.AC);
  const ui = lookup(weights.UI, metrics.UI);
  const pr = privilegesRequired(metrics.PR, scopeChanged);
  const [c, i, a] = [metrics.C, metrics.I, metrics.A].map((value) => lookup(weights.CIA, value));
  if (
    [av, ac, ui, pr, c, i, a].some((value) => value === undefined) ||
    !['U', 'C'].includes(metrics.S ?? '')
  ) {
    return undefined;
  }

  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scopeChanged ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  if (impact <= 0) return 0;
  return roundUp(Math.min((scopeChanged ? 1.08 : 1) * (impact + exploitability), 10));
}

function privilegesRequired(value: string | undefined, scopeChanged: boolean): number | undefined {
  if (value === 'N') return 0.85;
  if (value === 'L') return scopeChanged ? 0.68 : 0.62;
  if (value === 'H') return scopeChanged ? 0.5 : 0.27;
  return undefined;
}

function lookup(table: Record<string, number>, key: string | undefined): number | undefined {
  return key === undefined ? undefined : table[key];
}

/** CVSS v3.1 Roundup: the smallest one-decimal number not below the input, free of float noise. */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100000);
  return scaled % 10000 === 0 ? scaled / 100000 : (Math.floor(scaled / 10000) + 1) / 10;
}
