import type { ChangeproofConfig, Role } from '../config/schema.ts';
import type { ChangeSystem, OpenChangeRequest } from '../domain/change-system.ts';
import type { EmbeddedForge } from '../embedded/forge/index.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Store } from '../store/open.ts';
import { resolveGovernance, type EffectiveGovernance } from './governance.ts';
import { ChangeError } from './errors.ts';
import type { Proposal } from '../domain/forge.ts';

/** What review and change management work with, passed in once. */
export interface ChangeContext {
  config: ChangeproofConfig;
  /** The bare config repo. */
  gitDir: string;
  store: Store;
  ledger: Ledger;
  changeSystem: ChangeSystem;
  forge: EmbeddedForge;
  clock: () => Date;
  roles: ReadonlyMap<string, readonly Role[]>;
}

/** The actor recorded for decisions changeproof makes itself (gate, lifecycle). */
export const SYSTEM_ACTOR = 'system:change-management';

export function rolesByName(config: ChangeproofConfig): Map<string, readonly Role[]> {
  return new Map(config.identities.map((identity) => [identity.name, identity.roles]));
}

export async function governanceOf(
  context: ChangeContext,
  proposal: Proposal,
): Promise<EffectiveGovernance> {
  if (!proposal.env) {
    throw new ChangeError(
      'UNKNOWN_ENVIRONMENT',
      `proposal ${proposal.id} touches no configured environment`,
    );
  }
  return resolveGovernance(context.config, context.gitDir, proposal.env);
}

/** A change record owed to the change system: opened when it is reachable again. */
export interface PendingRecord {
  request: OpenChangeRequest;
  breakGlass?: { actor: string; reason: string };
}

export async function readPending(
  context: ChangeContext,
  proposal: string,
): Promise<PendingRecord | undefined> {
  const row = await context.store.db
    .selectFrom('change_pending_records')
    .selectAll()
    .where('proposal', '=', proposal)
    .executeTakeFirst();
  return row ? (JSON.parse(row.payload) as PendingRecord) : undefined;
}

export async function writePending(
  context: ChangeContext,
  proposal: string,
  pending: PendingRecord,
): Promise<void> {
  const payload = JSON.stringify(pending);
  await context.store.db
    .insertInto('change_pending_records')
    .values({ proposal, payload, created_at: context.clock().toISOString() })
    .onConflict((c) => c.column('proposal').doUpdateSet({ payload }))
    .execute();
}
