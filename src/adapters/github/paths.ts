/** What a proposal's changed files say about it, from the config repo layout. */
export interface ChangedFilesSummary {
  service?: string;
  env?: string;
  routine: boolean;
}

const OVERLAY = /^apps\/([^/]+)\/overlays\/([^/]+)\/kustomization\.ya?ml$/;
// Lines of an overlay's `images:` entry; anything else makes the change non-routine.
const IMAGE_LINE = /^\s*(-\s*)?(name|newName|newTag|digest):\s*\S+\s*$/;

/**
 * The service and environment a proposal targets, and whether it is routine: one overlay's
 * kustomization.yaml changed in image lines only.
 */
export function summarizeChangedFiles(
  files: { filename: string; patch?: string }[],
): ChangedFilesSummary {
  const targets = new Set<string>();
  let service: string | undefined;
  let env: string | undefined;
  for (const file of files) {
    const match = /^apps\/([^/]+)\/(?:overlays\/([^/]+)\/)?/.exec(file.filename);
    if (!match) continue;
    service = match[1];
    env = match[2] ?? env;
    targets.add(`${match[1]}/${match[2] ?? ''}`);
  }
  const [only] = files;
  const routine =
    files.length === 1 &&
    only !== undefined &&
    OVERLAY.test(only.filename) &&
    changedLines(only.patch ?? '').every((line) => IMAGE_LINE.test(line));
  return targets.size === 1 ? { service, env, routine } : { routine: false };
}

function changedLines(patch: string): string[] {
  const lines = patch
    .split('\n')
    .filter((line) => /^[+-]/.test(line) && !/^(\+\+\+|---)/.test(line))
    .map((line) => line.slice(1));
  return lines.length > 0 ? lines : ['(empty patch)'];
}
