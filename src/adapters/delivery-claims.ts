import type { Kysely } from 'kysely';
import type { Store } from '../store/open.ts';
import type { Database } from '../store/schema.ts';

/**
 * Claims on webhook deliveries, so that a delivery is handled once however many receivers get it.
 * A receiver claims the id before handling and releases it when handling fails, so the sender's
 * redelivery is taken rather than dropped as a duplicate.
 */
export interface DeliveryClaims {
  /** True when this caller now holds the delivery; false when another holds or handled it. */
  claim(delivery: string): Promise<boolean>;
  /**
   * The same claim made with `db`, a transaction of the same store: it commits with whatever
   * else that transaction writes (the delivery's evidence), or not at all.
   */
  claimIn(db: Kysely<Database>, delivery: string): Promise<boolean>;
  /** Gives up a claim whose handling failed. */
  release(delivery: string): Promise<void>;
}

export interface StoreDeliveryClaimsOptions {
  /** A claim older than this whose handling never finished (its holder died) may be re-taken. */
  staleAfterMs?: number;
  clock?: () => Date;
}

const FIVE_MINUTES = 5 * 60 * 1000;

/**
 * Delivery claims in the store's `webhook_deliveries` table. The primary key (source, delivery)
 * makes a claim atomic across processes: of two API replicas sharing one database, only one
 * insert succeeds. A claim left behind by a replica that died mid-handling expires after
 * `staleAfterMs`; the receiver still checks the ledger, so an expired claim on a delivery that
 * was handled is not handled again.
 */
export class StoreDeliveryClaims implements DeliveryClaims {
  private readonly staleAfterMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly store: Store,
    private readonly source: string,
    options: StoreDeliveryClaimsOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? FIVE_MINUTES;
    this.clock = options.clock ?? (() => new Date());
  }

  claim(delivery: string): Promise<boolean> {
    return this.claimIn(this.store.db, delivery);
  }

  async claimIn(db: Kysely<Database>, delivery: string): Promise<boolean> {
    const now = this.clock();
    const inserted = await db
      .insertInto('webhook_deliveries')
      .values({ source: this.source, delivery, claimed_at: now.toISOString() })
      .onConflict((conflict) => conflict.columns(['source', 'delivery']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    return this.takeOverStale(db, delivery, now);
  }

  async release(delivery: string): Promise<void> {
    await this.store.db
      .deleteFrom('webhook_deliveries')
      .where('source', '=', this.source)
      .where('delivery', '=', delivery)
      .execute();
  }

  /** Re-takes an expired claim; the condition on claimed_at lets only one taker win. */
  private async takeOverStale(db: Kysely<Database>, delivery: string, now: Date): Promise<boolean> {
    const staleBefore = new Date(now.getTime() - this.staleAfterMs).toISOString();
    const updated = await db
      .updateTable('webhook_deliveries')
      .set({ claimed_at: now.toISOString() })
      .where('source', '=', this.source)
      .where('delivery', '=', delivery)
      .where('claimed_at', '<', staleBefore)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }
}
