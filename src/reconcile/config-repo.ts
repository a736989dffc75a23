import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { git } from '../gitops/git.ts';
import { RenderError, renderKustomization, type KubeObject } from '../gitops/render.ts';

/** One service in one environment, found in the config repo as an ApplicationSet would. */
export interface AppSource {
  service: string;
  env: string;
}

/** Per-application settings kept beside the overlay (`application.yaml`), reviewed like the rest. */
export const applicationSettingsSchema = z.strictObject({
  /** Argo CD's ignoreDifferences: fields another controller owns. */
  ignoreDifferences: z
    .array(
      z.strictObject({
        kind: z.string().optional(),
        name: z.string().optional(),
        namespace: z.string().optional(),
        jsonPointers: z.array(z.string().startsWith('/')).optional(),
        managedFieldsManagers: z.array(z.string()).optional(),
      }),
    )
    .default([]),
  /** Overrides the environment's selfHeal: false records drift without reverting it. */
  selfHeal: z.boolean().optional(),
});
export type ApplicationSettings = z.infer<typeof applicationSettingsSchema>;

const settingsFile = 'application.yaml';

/** The commit a branch of the bare config repo points at (a cheap read of one ref). */
export async function headCommit(repo: string, branch: string): Promise<string> {
  return (
    await git(['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], { cwd: repo })
  ).trim();
}

/** Every `apps/<service>/overlays/<env>` at a commit: the ApplicationSet Git generator. */
export async function listAppSources(repo: string, commit: string): Promise<AppSource[]> {
  const listing = await git(['ls-tree', '-r', '--name-only', commit, '--', 'apps'], { cwd: repo });
  const found = new Map<string, AppSource>();
  for (const path of listing.split('\n')) {
    const match = /^apps\/([^/]+)\/overlays\/([^/]+)\/kustomization\.ya?ml$/.exec(path);
    if (match) found.set(`${match[2]}/${match[1]}`, { service: match[1]!, env: match[2]! });
  }
  return [...found.values()].sort((a, b) =>
    `${a.env}/${a.service}`.localeCompare(`${b.env}/${b.service}`),
  );
}

/** Extractions under way, by target folder. */
const extractions = new Map<string, Promise<string>>();

/**
 * A read-only copy of the repo's tree at `commit`, extracted once under `cacheDir` and reused:
 * a commit's tree never changes.
 */
export function checkoutCommit(repo: string, commit: string, cacheDir: string): Promise<string> {
  const dir = join(cacheDir, commit);
  if (existsSync(join(dir, '.complete'))) return Promise.resolve(dir);
  // Applications syncing the same commit at once share one extraction: a second extraction
  // would remove the tree the first is still writing or another application is rendering.
  let pending = extractions.get(dir);
  if (!pending) {
    pending = extractCommit(repo, commit, dir).finally(() => extractions.delete(dir));
    extractions.set(dir, pending);
  }
  return pending;
}

async function extractCommit(repo: string, commit: string, dir: string): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = `${dir}.${process.pid}.tar`;
  await git(['archive', '--format=tar', `--output=${archive}`, commit], { cwd: repo });
  await new Promise<void>((resolve, reject) =>
    execFile('tar', ['-xf', archive, '-C', dir], (error) => (error ? reject(error) : resolve())),
  );
  rmSync(archive, { force: true });
  await new Promise<void>((resolve) =>
    execFile('touch', [join(dir, '.complete')], () => resolve()),
  );
  return dir;
}

/** Renders one application at a checked-out commit, with its settings. */
export async function renderApp(
  tree: string,
  source: AppSource,
): Promise<{ objects: KubeObject[]; settings: ApplicationSettings }> {
  const overlay = join(tree, 'apps', source.service, 'overlays', source.env);
  if (!existsSync(overlay)) {
    throw new RenderError(
      'RENDER_FAILED',
      `apps/${source.service}/overlays/${source.env} is gone at this commit`,
    );
  }
  const objects = await renderKustomization(overlay);
  return { objects, settings: readSettings(join(overlay, settingsFile)) };
}

function readSettings(path: string): ApplicationSettings {
  if (!existsSync(path)) return applicationSettingsSchema.parse({});
  const parsed = applicationSettingsSchema.safeParse(parse(readFileSync(path, 'utf8')) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RenderError(
      'RENDER_INVALID',
      `${path}: ${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
