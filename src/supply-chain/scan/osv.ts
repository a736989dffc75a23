import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SupplyChainError } from '../supply-chain-error.ts';
import type { Finding } from './finding.ts';
import { compareVersions } from './semver.ts';
import { cvss3BaseScore, severityFromScore, severityFromWord, type Severity } from './severity.ts';

/** The fields of an OSV record (ossf/osv-schema) that matching reads. */
export interface OsvAdvisory {
  id: string;
  summary?: string;
  details?: string;
  aliases?: string[];
  withdrawn?: string;
  severity?: { type: string; score: string }[];
  affected?: OsvAffected[];
  database_specific?: { severity?: string };
}

export interface OsvAffected {
  package?: { ecosystem?: string; name?: string };
  ranges?: { type: string; events: OsvEvent[] }[];
  versions?: string[];
}

type OsvEvent = { introduced?: string; fixed?: string; last_affected?: string; limit?: string };

/** A package to match, as the SBOM lists it. */
export interface PackageRef {
  name: string;
  version: string;
  purl: string;
}

/** Reads every `*.json` OSV record of a directory; a record that does not parse names its file. */
export async function loadAdvisories(directory: string): Promise<OsvAdvisory[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => parseAdvisory(await readFile(join(directory, name), 'utf8'), name)),
  );
}

/** Parses one OSV record, checking the fields matching depends on. */
export function parseAdvisory(text: string, file: string): OsvAdvisory {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (cause) {
    throw new SupplyChainError('ADVISORY_INVALID', `advisory ${file} is not valid JSON`, { cause });
  }
  const advisory = record as OsvAdvisory;
  if (
    typeof advisory?.id !== 'string' ||
    (advisory.affected !== undefined && !Array.isArray(advisory.affected))
  ) {
    throw new SupplyChainError(
      'ADVISORY_INVALID',
      `advisory ${file} is not an OSV record (id, affected[])`,
    );
  }
  return advisory;
}

/** Findings for every npm package that an advisory affects; withdrawn advisories are skipped. */
export function matchAdvisories(
  packages: readonly PackageRef[],
  advisories: readonly OsvAdvisory[],
): Finding[] {
  const findings: Finding[] = [];
  for (const advisory of advisories) {
    if (advisory.withdrawn) continue;
    for (const pkg of packages) {
      const hits = (advisory.affected ?? []).filter((affected) => affectsPackage(affected, pkg));
      if (hits.length > 0) findings.push(findingOf(advisory, pkg, hits));
    }
  }
  return findings;
}

function affectsPackage(affected: OsvAffected, pkg: PackageRef): boolean {
  if (affected.package?.ecosystem !== 'npm' || affected.package.name !== pkg.name) return false;
  if (affected.versions?.includes(pkg.version)) return true;
  return (affected.ranges ?? []).some(
    (range) =>
      (range.type === 'SEMVER' || range.type === 'ECOSYSTEM') && inRange(pkg.version, range.events),
  );
}

/**
 * OSV range evaluation: walk the events in version order; `introduced` opens an affected span,
 * `fixed` closes it at that version, `last_affected` closes it after that version.
 */
export function inRange(version: string, events: readonly OsvEvent[]): boolean {
  const sorted = [...events].sort((a, b) => order(eventVersion(a), eventVersion(b)));
  let affected = false;
  for (const event of sorted) {
    if (
      event.introduced !== undefined &&
      (event.introduced === '0' || atLeast(version, event.introduced))
    ) {
      affected = true;
    }
    if (event.fixed !== undefined && atLeast(version, event.fixed)) affected = false;
    if (event.last_affected !== undefined && greaterThan(version, event.last_affected))
      affected = false;
    if (event.limit !== undefined && event.limit !== '*' && atLeast(version, event.limit))
      affected = false;
  }
  return affected;
}

function eventVersion(event: OsvEvent): string {
  return event.introduced ?? event.fixed ?? event.last_affected ?? event.limit ?? '0';
}

function order(a: string, b: string): number {
  if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
  return compareVersions(a, b) ?? 0;
}

function atLeast(version: string, bound: string): boolean {
  return (compareVersions(version, bound) ?? -1) >= 0;
}

function greaterThan(version: string, bound: string): boolean {
  return (compareVersions(version, bound) ?? -1) > 0;
}

function findingOf(advisory: OsvAdvisory, pkg: PackageRef, hits: OsvAffected[]): Finding {
  const { severity, score } = advisorySeverity(advisory);
  const fixedIn = hits.flatMap((hit) =>
    (hit.ranges ?? []).flatMap((r) => r.events.flatMap((e) => e.fixed ?? [])),
  );
  const finding: Finding = {
    id: advisory.id,
    kind: 'vulnerability',
    severity,
    title: advisory.summary ?? advisory.id,
    message: `${pkg.name}@${pkg.version} is affected by ${advisory.id}${advisory.summary ? `: ${advisory.summary}` : ''}`,
    location: { purl: pkg.purl },
    tool: 'changeproof-osv',
  };
  if (score !== undefined) finding.score = score;
  if (advisory.aliases?.length) finding.aliases = advisory.aliases;
  if (fixedIn.length) finding.fixedIn = [...new Set(fixedIn)];
  return finding;
}

/**
 * The advisory's reviewed rating (`database_specific.severity`) when present, else the rating of
 * its CVSS v3 vector. An advisory with neither counts as high: unrated is not harmless.
 */
export function advisorySeverity(advisory: OsvAdvisory): { severity: Severity; score?: number } {
  const vector = advisory.severity?.find((entry) => entry.type === 'CVSS_V3')?.score;
  const score = vector ? cvss3BaseScore(vector) : undefined;
  const severity =
    severityFromWord(advisory.database_specific?.severity) ??
    severityFromScore(score ?? 0) ??
    'high';
  return score === undefined ? { severity } : { severity, score };
}
