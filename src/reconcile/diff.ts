import { desiredStateDigest, objectKey, type KubeObject } from '../gitops/render.ts';
import { covers, escape, fieldOwners } from './managed-fields.ts';

/**
 * Comparing live with desired the way a GitOps engine must: only the fields Git sets are
 * compared, so values the API server or controllers add (uid, status, defaults) are never drift.
 * Pure: no I/O.
 */

/** Differences to ignore for one application, as Argo CD's `ignoreDifferences` spells them. */
export interface IgnoreDifference {
  kind?: string;
  name?: string;
  namespace?: string;
  /** RFC 6901 pointers, e.g. `/spec/replicas`. */
  jsonPointers?: string[];
  /** Fields owned by these managers (e.g. an autoscaler) are another controller's business. */
  managedFieldsManagers?: string[];
}

export interface FieldDifference {
  /** JSON pointer into the object. */
  path: string;
  desired: unknown;
  live: unknown;
}

/** Pointers to skip for one object: its rules' jsonPointers and fields of the named managers. */
export function ignoredPaths(
  desired: KubeObject,
  live: KubeObject | undefined,
  rules: readonly IgnoreDifference[],
): string[] {
  const paths: string[] = [];
  for (const rule of rules) {
    if (rule.kind && rule.kind !== desired.kind) continue;
    if (rule.name && rule.name !== desired.metadata.name) continue;
    if (rule.namespace && rule.namespace !== desired.metadata.namespace) continue;
    paths.push(...(rule.jsonPointers ?? []));
    if (live && rule.managedFieldsManagers?.length) {
      const owners = fieldOwners(live);
      for (const manager of rule.managedFieldsManagers) paths.push(...(owners.get(manager) ?? []));
    }
  }
  return paths;
}

/**
 * The live object cut down to the shape of the desired one: for every field Git sets, the live
 * value (ignored fields keep the desired value). Equal to the desired object exactly when live
 * matches desired, so digests of projections compare like digests of desired states.
 */
export function projectLive(desired: unknown, live: unknown, ignored: string[], at = ''): unknown {
  if (ignored.some((path) => covers(path, at) && path !== '')) return desired;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return live;
    const projected = desired.map((element, index) =>
      projectLive(element, live[index], ignored, `${at}/${index}`),
    );
    // Elements the cluster has beyond Git's keep the lists unequal.
    return live.length > desired.length ? [...projected, ...live.slice(desired.length)] : projected;
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return live;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(desired)) {
      const liveValue = (live as Record<string, unknown>)[key];
      const next = `${at}/${escape(key)}`;
      if (liveValue === undefined && !ignored.some((path) => covers(path, next))) continue;
      out[key] = projectLive(value, liveValue, ignored, next);
    }
    return out;
  }
  return live;
}

/** Every field Git sets whose live value differs, as leaf paths. */
export function diffObject(
  desired: KubeObject,
  live: KubeObject,
  rules: readonly IgnoreDifference[] = [],
): FieldDifference[] {
  const projected = projectLive(desired, live, ignoredPaths(desired, live, rules));
  const differences: FieldDifference[] = [];
  compare(desired, projected, '', differences);
  return differences;
}

function compare(desired: unknown, live: unknown, at: string, out: FieldDifference[]): void {
  const bothObjects = desired && live && typeof desired === 'object' && typeof live === 'object';
  if (bothObjects && Array.isArray(desired) === Array.isArray(live)) {
    const keys = new Set([...Object.keys(desired), ...Object.keys(live)]);
    for (const key of keys) {
      compare(
        (desired as Record<string, unknown>)[key],
        (live as Record<string, unknown>)[key],
        `${at}/${escape(key)}`,
        out,
      );
    }
    return;
  }
  if (JSON.stringify(desired) !== JSON.stringify(live)) out.push({ path: at, desired, live });
}

/**
 * The digest of the live state as Git describes it: the projections of every desired object's
 * live counterpart (a missing object projects to nothing). Equals the desired digest when in sync.
 */
export function liveStateDigest(
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
  rules: readonly IgnoreDifference[] = [],
): string {
  const projected = desired.map((object) => {
    const current = live.get(objectKey(object));
    if (!current) return { ...object, metadata: { ...object.metadata, missing: true } };
    return projectLive(object, current, ignoredPaths(object, current, rules)) as KubeObject;
  });
  return desiredStateDigest(projected);
}

const redacted = '<redacted>';

/** A diff for the ledger: one line per field; Secret values never appear. */
export function redactedDiff(object: KubeObject, differences: readonly FieldDifference[]): string {
  const secret = object.kind === 'Secret';
  const lines = differences.map((difference) => {
    const hide = secret && /^\/(data|stringData)(\/|$)/.test(difference.path);
    const show = (value: unknown) => (hide ? redacted : JSON.stringify(value ?? null));
    return `  ${difference.path}: ${show(difference.desired)} -> ${show(difference.live)}`;
  });
  return [`${objectKey(object)}`, ...lines].join('\n');
}
