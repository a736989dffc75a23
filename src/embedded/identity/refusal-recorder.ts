import { recordEvidence, type EvidencePayloads } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';

/** One refused token, as recorded: never the token or its secret. */
export type TokenRefusal = Omit<EvidencePayloads['identity.token-refused'], 'suppressed'>;

/** The actor of a refusal entry: whoever presented the token is, by definition, not known. */
export const UNAUTHENTICATED_ACTOR = 'unauthenticated';

const DEFAULT_WINDOW_MS = 60_000;

/**
 * Decides which refusals are written: the first of each key in each window (a minute by
 * default), with the count of those left out since the previous one written for that key. A
 * flood of hostile requests is one entry a minute, not one per request. Callers keep the keys
 * bounded (never key on what the sender chose freely). Counts not yet carried are lost when the
 * process stops; the first refusal of each kind never is.
 */
export class RefusalWindow {
  private readonly recent = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly clock: () => Date,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  /** Undefined when this refusal is only counted; else how many were counted before it. */
  admit(key: string): number | undefined {
    const now = this.clock().getTime();
    const previous = this.recent.get(key);
    if (previous && now - previous.at < this.windowMs) {
      previous.suppressed += 1;
      return undefined;
    }
    // Claimed before the caller appends, so concurrent refusals in the window are counted.
    this.recent.set(key, { at: now, suppressed: 0 });
    return previous?.suppressed ?? 0;
  }
}

/**
 * Writes `identity.token-refused` entries, at most one per reason and stored token in each window
 * (see {@link RefusalWindow}). The keys are bounded by the stored tokens, since a token naming no
 * stored one has no user or id to key on.
 */
export class RefusalRecorder {
  private readonly window: RefusalWindow;

  constructor(
    private readonly ledger: Ledger,
    clock: () => Date,
    windowMs = DEFAULT_WINDOW_MS,
  ) {
    this.window = new RefusalWindow(clock, windowMs);
  }

  async record(refusal: TokenRefusal): Promise<void> {
    const suppressed = this.window.admit(
      `${refusal.reason}|${refusal.user ?? ''}|${refusal.token ?? ''}`,
    );
    if (suppressed === undefined) return;
    await recordEvidence(
      this.ledger,
      'identity.token-refused',
      refusal.user ? `user:${refusal.user}` : 'identity:unauthenticated',
      UNAUTHENTICATED_ACTOR,
      { ...refusal, ...(suppressed > 0 ? { suppressed } : {}) },
    );
  }
}
