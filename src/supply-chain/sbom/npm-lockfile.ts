import { SupplyChainError } from '../supply-chain-error.ts';

/** A package resolved by an npm lockfile. */
export interface LockedPackage {
  name: string;
  version: string;
  /** Subresource integrity string, e.g. `sha512-…`. */
  integrity?: string;
  resolved?: string;
  development: boolean;
  optional: boolean;
  /** Where in the lockfile the package sits, e.g. `node_modules/a/node_modules/b`. */
  location: string;
}

interface LockfileEntry {
  name?: string;
  version?: string;
  integrity?: string;
  resolved?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, LockfileEntry>;
}

/**
 * Reads the packages of an npm lockfile: `packages` (lockfile v2 and v3) or, for v1,
 * the nested `dependencies` tree. `file` names the lockfile in error messages.
 */
export function parseNpmLockfile(text: string, file: string): LockedPackage[] {
  const lockfile = parseJson(text, file);
  if (isRecord(lockfile.packages))
    return fromPackages(lockfile.packages as Record<string, LockfileEntry>, file);
  if (isRecord(lockfile.dependencies)) {
    return fromDependencies(
      lockfile.dependencies as Record<string, LockfileEntry>,
      'node_modules',
      file,
    );
  }
  throw invalid(file, 'has neither packages nor dependencies');
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SupplyChainError(
      'LOCKFILE_INVALID',
      `lockfile ${file} is not valid JSON; regenerate it with npm install`,
      {
        cause,
        details: { file },
      },
    );
  }
  if (!isRecord(value)) throw invalid(file, 'is not a JSON object');
  return value;
}

function fromPackages(packages: Record<string, LockfileEntry>, file: string): LockedPackage[] {
  const result: LockedPackage[] = [];
  for (const [location, entry] of Object.entries(packages)) {
    // The root ("") is the project itself; links point at workspace folders listed on their own.
    if (location === '' || !isObject(entry) || entry.link) continue;
    const name = typeof entry.name === 'string' ? entry.name : nameFromLocation(location);
    if (!name) continue;
    if (typeof entry.version !== 'string') throw invalid(file, `has no version for ${location}`);
    result.push(locked(name, entry, location));
  }
  return result;
}

function fromDependencies(
  dependencies: Record<string, LockfileEntry>,
  parent: string,
  file: string,
): LockedPackage[] {
  const result: LockedPackage[] = [];
  for (const [name, entry] of Object.entries(dependencies)) {
    if (!isObject(entry) || typeof entry.version !== 'string')
      throw invalid(file, `has no version for ${name}`);
    const location = `${parent}/${name}`;
    // v1 writes local and git dependencies with a URL as "version"; the installed one is in node_modules.
    if (!entry.version.startsWith('file:')) result.push(locked(name, entry, location));
    if (isObject(entry.dependencies) && entry.dependencies)
      result.push(...fromDependencies(entry.dependencies, `${location}/node_modules`, file));
  }
  return result;
}

function locked(name: string, entry: LockfileEntry, location: string): LockedPackage {
  const lockedPackage: LockedPackage = {
    name,
    version: entry.version ?? '',
    development: entry.dev === true,
    optional: entry.optional === true,
    location,
  };
  if (typeof entry.integrity === 'string') lockedPackage.integrity = entry.integrity;
  if (typeof entry.resolved === 'string') lockedPackage.resolved = entry.resolved;
  return lockedPackage;
}

/** `node_modules/@scope/name` or `node_modules/a/node_modules/b` → the last package name. */
function nameFromLocation(location: string): string | undefined {
  const index = location.lastIndexOf('node_modules/');
  return index === -1 ? undefined : location.slice(index + 'node_modules/'.length);
}

function invalid(file: string, problem: string): SupplyChainError {
  return new SupplyChainError(
    'LOCKFILE_INVALID',
    `lockfile ${file} ${problem}; regenerate it with npm install`,
    {
      details: { file },
    },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return isObject(value);
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for the lockfiles the SBOM reads: the project's own and npm's hidden lockfile. */
export function isNpmLockfilePath(path: string): boolean {
  const segments = path.split('/');
  const base = segments.at(-1);
  const nodeModulesDepth = segments.filter((segment) => segment === 'node_modules').length;
  if (base === 'package-lock.json' || base === 'npm-shrinkwrap.json') return nodeModulesDepth === 0;
  return (
    base === '.package-lock.json' && nodeModulesDepth === 1 && segments.at(-2) === 'node_modules'
  );
}
