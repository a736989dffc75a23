import { recordEvidence, type EvidencePayloads } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';

/** One refused token, as recorded: never the token or its secret. */
export type TokenRefusal = Omit<EvidencePayloads['identity.token-refused'], 'suppressed'>;

/** The actor of a refusal entry: whoever presented the token is, by definition, not known. */
export const UNAUTHENTICATED_ACTOR = 'unauthenticated';

const DEFAULT_WINDOW_MS = 60_000;

/**
 * Writes `identity.token-refused` entries, at most one per reason and stored token in each window
 * (a minute by default). A flood of forged tokens is one entry a minute, not one per request: the
 * refusals left out are counted and carried by the next entry with the same key. The keys are
 * bounded by the stored tokens, since a token naming no stored one has no user or id to key on.
 * Counts not yet carried are lost when the process stops; the first refusal of each kind never is.
 */
export class RefusalRecorder {
  private readonly recent = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: () => Date,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  async record(refusal: TokenRefusal): Promise<void> {
    const key = `${refusal.reason}|${refusal.user ?? ''}|${refusal.token ?? ''}`;
    const now = this.clock().getTime();
    const previous = this.recent.get(key);
    if (previous && now - previous.at < this.windowMs) {
      previous.suppressed += 1;
      return;
    }

    // Claimed before the append, so concurrent refusals in the same window are counted, not written.
    this.recent.set(key, { at: now, suppressed: 0 });
    const suppressed = previous?.suppressed ?? 0;
    await recordEvidence(
      this.ledger,
      'identity.token-refused',
      refusal.user ? `user:${refusal.user}` : 'identity:unauthenticated',
      UNAUTHENTICATED_ACTOR,
      { ...refusal, ...(suppressed > 0 ? { suppressed } : {}) },
    );
  }
}
