/**
 * A small Semantic Versioning 2.0.0 comparator for advisory matching: numeric core, then
 * prereleases ordered below their release, identifiers compared numerically when both are
 * numbers; build metadata ignored. A leading `v` is accepted, as some advisories write it.
 */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: (string | number)[];
}

const pattern =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses a version; undefined when it is not semver. */
export function parseSemVer(version: string): SemVer | undefined {
  const match = pattern.exec(version.trim());
  if (!match) return undefined;
  const [, major = '0', minor = '0', patch = '0', prerelease] = match;
  return {
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease: prerelease
      ? prerelease.split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id))
      : [],
  };
}

/** Negative when a < b, zero when equal in precedence, positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

/** Compares two version strings; undefined when either is not semver. */
export function compareVersions(a: string, b: string): number | undefined {
  const left = parseSemVer(a);
  const right = parseSemVer(b);
  return left && right ? compareSemVer(left, right) : undefined;
}

function comparePrerelease(a: (string | number)[], b: (string | number)[]): number {
  // A release ranks above any of its prereleases.
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const left = a[index];
    const right = b[index];
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    const order = compareIdentifier(left, right);
    if (order !== 0) return order;
  }
  return 0;
}

function compareIdentifier(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  // Numeric identifiers rank below alphanumeric ones.
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
