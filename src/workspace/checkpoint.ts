import type { Checkpoint } from '../ledger/checkpoint.ts';
import type { WorkspaceContext } from './context.ts';

/**
 * Seals a checkpoint over the ledger so far, under a one-minute lease on the control-plane key.
 * Returns the latest checkpoint unchanged when it already covers the head, and nothing for an
 * empty ledger.
 */
export async function sealWorkspaceLedger(
  ws: WorkspaceContext,
  holder = 'system:checkpointer',
): Promise<Checkpoint | undefined> {
  const latest = await ws.ledger.latestCheckpoint();
  if (!(await hasNewEvidence(ws, latest, holder))) return latest;
  const lease = await ws.broker.openLease({
    holder,
    scopes: ['sign:control-plane'],
    ttlSeconds: 60,
  });
  try {
    return await ws.ledger.seal(await ws.broker.signer(lease.id, 'control-plane'));
  } finally {
    await ws.broker.revokeLease(lease.id);
  }
}

/**
 * Whether anything but the sealer's own lease entries arrived since `latest`: sealing records
 * its lease, and an idle ledger must not grow by sealing itself over and over.
 */
async function hasNewEvidence(
  ws: WorkspaceContext,
  latest: Checkpoint | undefined,
  holder: string,
): Promise<boolean> {
  const since = await ws.ledger.list({ afterSeq: latest?.treeSize ?? 0, limit: 3 });
  return since.some(
    (entry) => !entry.kind.startsWith('broker.lease.') || entry.payload.holder !== holder,
  );
}
