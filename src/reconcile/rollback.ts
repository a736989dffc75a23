import { evidenceOf, recordEvidence, type EvidencePayloads } from '../domain/evidence.ts';
import type { Forge, Proposal } from '../domain/forge.ts';
import { commitFilesSigned } from '../embedded/forge/commit-files.ts';
import { git } from '../gitops/git.ts';
import type { Signer } from '../supply-chain/signer.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { ReconcileError } from './errors.ts';

export interface RollbackRequest {
  env: string;
  service: string;
  /** A deployment id (`<env>/<service>/<n>`); default: the healthy deployment before the latest. */
  to?: string;
  /** Who asks; the proposal's author. */
  actor: string;
  reason: string;
  /** Ask for the emergency path (one on-call approval, retroactive review). */
  emergency?: boolean;
  /**
   * Signs the revert commit. The forge merges signed commits only, and a person asking for a
   * rollback from the CLI holds no key: changeproof commits on their behalf with the pipeline key,
   * under a short broker lease, and the proposal names the person as its author.
   */
  signer: Signer;
}

/**
 * Rollback is a revert in Git: restores the application's overlay as it was at the target
 * deployment's commit, on a new branch, and opens a proposal through the forge, so the rollback
 * is reviewed and approved like any change (or through the emergency path).
 */
export async function requestRollback(
  forge: Forge,
  ledger: Ledger,
  request: RollbackRequest,
): Promise<Proposal> {
  const app = `${request.env}/${request.service}`;
  const target = await rollbackTarget(ledger, app, request.to);
  const overlay = `apps/${request.service}/overlays/${request.env}`;
  const branch = `rollback/${request.env}-${request.service}-${Date.now().toString(36)}`;
  const files = await overlayRestore(forge.repositoryUrl, overlay, target.configCommit);
  if (Object.keys(files).length === 0) {
    throw new ReconcileError(
      'NOTHING_TO_ROLL_BACK',
      `${overlay} on main already equals deployment ${target.deployment}`,
    );
  }
  await commitFilesSigned({
    gitDir: forge.repositoryUrl,
    branch,
    files,
    message: `Roll back ${app} to ${target.deployment}\n\n${request.reason}`,
    author: { name: request.actor, email: `${request.actor}@changeproof.local` },
    signer: request.signer,
  });

  const proposal = await forge.openProposal({
    title: `${request.emergency ? '[emergency] ' : ''}Roll back ${app} to ${target.deployment}`,
    description: `${request.reason}\n\nRestores ${overlay} as deployed by ${target.deployment} (commit ${target.configCommit}).`,
    author: request.actor,
    branch,
  });
  await recordEvidence(ledger, 'rollback.requested', `app:${app}`, request.actor, {
    app,
    toCommit: target.configCommit,
    proposal: proposal.id,
    reason: request.reason,
  });
  return proposal;
}

/** The edits that make `overlay` on main what it was at `commit` (null deletes a file). */
async function overlayRestore(
  gitDir: string,
  overlay: string,
  commit: string,
): Promise<Record<string, string | null>> {
  const list = async (revision: string) =>
    (await git(['ls-tree', '-r', '--name-only', revision, '--', overlay], { cwd: gitDir }))
      .split('\n')
      .filter(Boolean);
  const [then, now] = [await list(commit), await list('main')];
  const files: Record<string, string | null> = {};
  for (const path of then) {
    const old = await git(['show', `${commit}:${path}`], { cwd: gitDir });
    const current = now.includes(path)
      ? await git(['show', `main:${path}`], { cwd: gitDir })
      : undefined;
    if (old !== current) files[path] = old;
  }
  for (const path of now) if (!then.includes(path)) files[path] = null;
  return files;
}

async function rollbackTarget(
  ledger: Ledger,
  app: string,
  to: string | undefined,
): Promise<EvidencePayloads['sync.completed']> {
  const completed = (await ledger.list({ kind: 'sync.completed', subject: `deployment:${app}/*` }))
    .map((entry) => evidenceOf(entry, 'sync.completed')!)
    .filter(Boolean);
  const target = to
    ? completed.find((deployment) => deployment.deployment === to)
    : completed[completed.length - 2];
  if (!target) {
    throw new ReconcileError(
      'DEPLOYMENT_UNKNOWN',
      to
        ? `no healthy deployment ${to} of ${app}; see changeproof ledger list --kind sync.completed`
        : `${app} has no earlier healthy deployment to roll back to`,
      { category: 'not-found' },
    );
  }
  return target;
}
