import type { ChangeproofConfig, Role } from '../config/schema.ts';
import type { ChangeSystem, OpenChangeRequest } from '../domain/change-system.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Store } from '../store/open.ts';
import { resolveGovernance, type EffectiveGovernance } from './governance.ts';
import { ChangeError } from './errors.ts';
import type { CommitStatus, Forge, Proposal, Review } from '../domain/forge.ts';
import type { BreakGlassDeclaration } from './gate.ts';

/**
 * The forge as change management drives it: the port, plus the reads and the status write the
 * gate makes inside one write-locked transaction, and closing without merging. The embedded forge
 * keeps these in the workspace database; a connected forge answers them from its API.
 */
export interface GovernedForge extends Forge {
  getProposalIn(db: Kysely<Database>, id: string): Promise<Proposal>;
  listReviewsIn(db: Kysely<Database>, id: string): Promise<Review[]>;
  listStatusesIn(db: Kysely<Database>, commit: string): Promise<CommitStatus[]>;
  writeStatus(db: Kysely<Database>, input: Omit<CommitStatus, 'updatedAt'>): Promise<CommitStatus>;
  closeProposal(id: string, actor: string): Promise<Proposal>;
  /** Writes the evidence of merges a crash left unrecorded; see EmbeddedForge. */
  recordUnrecordedMerges?(): Promise<string[]>;
}

/** What review and change management work with, passed in once. */
export interface ChangeContext {
  config: ChangeproofConfig;
  /** The bare config repo. */
  gitDir: string;
  store: Store;
  ledger: Ledger;
  changeSystem: ChangeSystem;
  forge: GovernedForge;
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
  breakGlass?: BreakGlassDeclaration;
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
