import { changeManagementFor } from '../change/index.ts';
import { authorize } from '../change/permissions.ts';
import type { Proposal } from '../domain/forge.ts';
import type { Actor } from '../domain/identity.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { requestRollback, type RollbackRequest } from './rollback.ts';

/**
 * A person's rollback request in a workspace, the same from the CLI and the API: the actor must
 * be allowed to open proposals, and the revert commit is signed with the pipeline key under a
 * two-minute lease on their behalf.
 */
export async function rollbackAs(
  ws: WorkspaceContext,
  actor: Actor,
  request: Omit<RollbackRequest, 'actor' | 'signer'>,
): Promise<Proposal> {
  authorize(actor, 'open');
  const lease = await ws.broker.openLease({
    holder: `rollback:${actor.name}`,
    scopes: ['sign:pipeline'],
    ttlSeconds: 120,
  });
  try {
    return await requestRollback(changeManagementFor(ws).forge, ws.ledger, {
      ...request,
      actor: actor.name,
      signer: await ws.broker.signer(lease.id, 'pipeline'),
    });
  } finally {
    await ws.broker.revokeLease(lease.id);
  }
}
