import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { ChangeError } from '../../change/errors.ts';
import { git } from '../../gitops/git.ts';

/** What a proposal's diff touches and whether it is routine. */
export interface DiffSummary {
  changedPaths: string[];
  service?: string;
  /** The environment whose rules govern the proposal (the strictest one it affects). */
  env?: string;
  routine: boolean;
}

const OVERLAY = /^apps\/([^/]+)\/overlays\/([^/]+)\//;
const ENVIRONMENT_FILE = /^environments\/([^/]+)\.yaml$/;
const APP = /^apps\/([^/]+)\//;
const IMAGE_REFERENCE_LINE = /^\s*(-\s+)?(newName|newTag|digest):\s*\S/;

/**
 * Reads the diff between `base` and `head` in the config repo and classifies it. Overlay and
 * environment-file paths affect their environment; any other path (a base, a README) affects every
 * environment, so the strictest environment's rules apply. `environments` lists names from the
 * least to the most protected.
 */
export async function summarizeDiff(
  gitDir: string,
  base: string,
  head: string,
  environments: string[],
): Promise<DiffSummary> {
  const output = await git(['diff', '--name-only', '--no-renames', `${base}...${head}`], {
    cwd: gitDir,
  });
  const changedPaths = output.split('\n').filter(Boolean).sort();
  if (changedPaths.length === 0) {
    throw new ChangeError('NO_CHANGES', 'the branch changes nothing against main; push a change');
  }
  const affected = new Set<string>();
  const services = new Set<string>();
  for (const path of changedPaths) {
    const env = OVERLAY.exec(path)?.[2] ?? ENVIRONMENT_FILE.exec(path)?.[1];
    if (env) affected.add(env);
    else environments.forEach((name) => affected.add(name));
    const service = APP.exec(path)?.[1];
    if (service) services.add(service);
  }
  const env = [...environments].reverse().find((name) => affected.has(name));
  const routine = await isRoutine(gitDir, base, head, changedPaths);
  return {
    changedPaths,
    service: services.size === 1 ? [...services][0] : undefined,
    env,
    routine,
  };
}

async function isRoutine(
  gitDir: string,
  base: string,
  head: string,
  paths: string[],
): Promise<boolean> {
  for (const path of paths) {
    if (!OVERLAY.test(path) || !path.endsWith('/kustomization.yaml')) return false;
    const mergeBase = (await git(['merge-base', base, head], { cwd: gitDir })).trim();
    const before = await readAt(gitDir, mergeBase, path);
    const after = await readAt(gitDir, head, path);
    if (before === undefined || after === undefined) return false;
    if (!isImageReferenceEdit(before, after)) return false;
  }
  return true;
}

/** The file's text at `commit`, or undefined when it does not exist there. */
export async function readAt(
  gitDir: string,
  commit: string,
  path: string,
): Promise<string | undefined> {
  try {
    return await git(['show', `${commit}:${path}`], { cwd: gitDir });
  } catch {
    return undefined;
  }
}

/**
 * True when the two kustomization texts differ only in image reference lines (`newName`,
 * `newTag`, `digest`) of entries under `images:` that keep their names and order. Checked twice:
 * line by line (so a comment or a moved line is not routine) and parsed (so the changed lines are
 * really inside `images:`).
 */
export function isImageReferenceEdit(before: string, after: string): boolean {
  // Image reference lines may change, appear or go (a first delivery adds `digest:`); every
  // other line must stay, in order.
  const otherLines = (text: string) =>
    text.split('\n').filter((line) => !IMAGE_REFERENCE_LINE.test(line));
  if (!isDeepStrictEqual(otherLines(before), otherLines(after))) return false;
  let oldDoc: unknown;
  let newDoc: unknown;
  try {
    oldDoc = parse(before);
    newDoc = parse(after);
  } catch {
    return false;
  }
  if (!isRecord(oldDoc) || !isRecord(newDoc)) return false;
  const { images: oldImages, ...oldRest } = oldDoc;
  const { images: newImages, ...newRest } = newDoc;
  if (!isDeepStrictEqual(oldRest, newRest)) return false;
  if (!Array.isArray(oldImages) || !Array.isArray(newImages)) return false;
  if (oldImages.length !== newImages.length) return false;
  return oldImages.every((image, i) => {
    const other: unknown = newImages[i];
    if (!isRecord(image) || !isRecord(other) || image.name !== other.name) return false;
    const keys = new Set([...Object.keys(image), ...Object.keys(other)]);
    return [...keys].every(
      (key) => ['newName', 'newTag', 'digest'].includes(key) || image[key] === other[key],
    );
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
