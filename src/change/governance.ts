import { parse } from 'yaml';
import { z } from 'zod';
import type { ChangeproofConfig, EnvironmentConfig, Governance } from '../config/schema.ts';
import { readAt } from '../embedded/forge/diff.ts';
import { messageOf } from '../errors.ts';
import { git } from '../gitops/git.ts';
import { ChangeError } from './errors.ts';

/**
 * The governance that applies to an environment: changeproof.yaml sets the floor, and the config
 * repo's `environments/<env>.yaml` on main (changed only through a reviewed proposal) refines it.
 * The stricter value of the two wins for every approval rule, so a file can tighten an
 * environment but never loosen what the workspace requires. Standard-change templates exist only
 * in the file, where adding one is itself a reviewed change.
 */
export interface EffectiveGovernance extends Governance {
  env: string;
  production: boolean;
  /** Pre-approved templates; `routine-image-bump` makes routine proposals standard changes. */
  standardChanges: string[];
  /** Where the refinement came from, for the evidence. */
  sources: string[];
}

const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'use a number and a unit: 30s, 10m, 72h, 7d');

/** The schema of `environments/<env>.yaml`; every key optional, unknown keys refused. */
export const environmentFileSchema = z.strictObject({
  name: z.string().optional(),
  approvals: z.number().int().min(0).max(10).optional(),
  cabRequired: z.boolean().optional(),
  autoApproveOnGreen: z.boolean().optional(),
  nonRoutineApprovals: z.number().int().min(0).max(10).optional(),
  requireWindow: z.boolean().optional(),
  selfHeal: z.boolean().optional(),
  prune: z.boolean().optional(),
  verifyInterval: duration.optional(),
  emergencyReviewWindow: duration.optional(),
  syncTimeout: duration.optional(),
  standardChanges: z.array(z.enum(['routine-image-bump'])).optional(),
});
export type EnvironmentFile = z.infer<typeof environmentFileSchema>;

/** Parses an environment file; a problem names the file and the key. */
export function parseEnvironmentFile(text: string, file: string, env: string): EnvironmentFile {
  let document: unknown;
  try {
    document = parse(text, { maxAliasCount: 10, uniqueKeys: true }) ?? {};
  } catch (error) {
    throw invalid(file, `not valid YAML: ${messageOf(error).split('\n')[0]}`);
  }
  const result = environmentFileSchema.safeParse(document);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    const detail =
      issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : issue.message;
    throw invalid(file, `${where}: ${detail}`);
  }
  if (result.data.name !== undefined && result.data.name !== env) {
    throw invalid(file, `name: says ${result.data.name} but the file is for ${env}`);
  }
  return result.data;
}

function invalid(file: string, detail: string): ChangeError {
  return new ChangeError(
    'ENVIRONMENT_FILE_INVALID',
    `${file} in the config repo: ${detail}; fix it with a reviewed change`,
  );
}

/** The stricter-wins combination of the workspace's floor and the file's refinement. */
export function combineGovernance(
  environment: EnvironmentConfig,
  file: EnvironmentFile | undefined,
  source?: string,
): EffectiveGovernance {
  const floor = environment.governance;
  const f = file ?? {};
  const shorter = (a: string, b: string | undefined) =>
    b !== undefined && durationSeconds(b) < durationSeconds(a) ? b : a;
  return {
    ...floor,
    approvals: Math.max(floor.approvals, f.approvals ?? 0),
    cabRequired: floor.cabRequired || (f.cabRequired ?? false),
    autoApproveOnGreen: floor.autoApproveOnGreen && (f.autoApproveOnGreen ?? true),
    nonRoutineApprovals: Math.max(floor.nonRoutineApprovals, f.nonRoutineApprovals ?? 0),
    requireWindow: floor.requireWindow || (f.requireWindow ?? false),
    emergencyReviewWindow: shorter(floor.emergencyReviewWindow, f.emergencyReviewWindow),
    verifyInterval: shorter(floor.verifyInterval, f.verifyInterval),
    selfHeal: f.selfHeal ?? floor.selfHeal,
    prune: f.prune ?? floor.prune,
    syncTimeout: f.syncTimeout ?? floor.syncTimeout,
    env: environment.name,
    production: environment.production,
    standardChanges: f.standardChanges ?? [],
    sources: source ? ['changeproof.yaml', source] : ['changeproof.yaml'],
  };
}

function durationSeconds(value: string): number {
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[value.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(value.slice(0, -1)) * unit;
}

/** Reads governance for `env` from changeproof.yaml and the file on the config repo's main. */
export async function resolveGovernance(
  config: ChangeproofConfig,
  gitDir: string,
  env: string,
  commit?: string,
): Promise<EffectiveGovernance> {
  const environment = config.environments.find((e) => e.name === env);
  if (!environment) {
    throw new ChangeError(
      'UNKNOWN_ENVIRONMENT',
      `environment ${env} is not in changeproof.yaml; add it there first`,
    );
  }
  const at = commit ?? (await git(['rev-parse', config.configRepo.branch], { cwd: gitDir })).trim();
  const file = `environments/${env}.yaml`;
  const text = await readAt(gitDir, at, file);
  if (text === undefined) return combineGovernance(environment, undefined);
  return combineGovernance(
    environment,
    parseEnvironmentFile(text, file, env),
    `${file}@${at.slice(0, 12)}`,
  );
}

/** Environment names from the least to the most protected (configured order). */
export function environmentsByOrder(config: ChangeproofConfig): string[] {
  return [...config.environments].sort((a, b) => a.order - b.order).map((e) => e.name);
}
