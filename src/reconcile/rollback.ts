import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evidenceOf, recordEvidence, type EvidencePayloads } from '../domain/evidence.ts';
import type { Forge, Proposal } from '../domain/forge.ts';
import { git, identityArgs } from '../gitops/git.ts';
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

  const work = mkdtempSync(join(tmpdir(), 'changeproof-rollback-'));
  try {
    await git(['clone', '-q', forge.repositoryUrl, work], { cwd: work });
    await git(['checkout', '-q', '-b', branch], { cwd: work });
    await git(['checkout', target.configCommit, '--', overlay], { cwd: work });
    const changed = (await git(['status', '--porcelain'], { cwd: work })).trim();
    if (!changed) {
      throw new ReconcileError(
        'NOTHING_TO_ROLL_BACK',
        `${overlay} on main already equals deployment ${target.deployment}`,
      );
    }
    const message = `Roll back ${app} to ${target.deployment}\n\n${request.reason}`;
    await git(
      [
        ...identityArgs(request.actor, `${request.actor}@changeproof.local`),
        'commit',
        '-qam',
        message,
      ],
      {
        cwd: work,
      },
    );
    await git(['push', '-q', 'origin', branch], { cwd: work });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

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
