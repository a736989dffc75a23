import { recordEvidence } from '../domain/evidence.ts';
import { isChangeproofError, messageOf } from '../errors.ts';
import type { Ledger } from '../ledger/ledger.ts';

// Errors already written to the ledger, so that a refusal passing through several layers is
// recorded exactly once.
const recorded = new WeakSet<object>();

/**
 * Writes a `proposal.refused` entry for a refusal (never for a crash of our own or an outside
 * system being down, which are not decisions) and rethrows it.
 */
export async function recordRefusal(
  ledger: Ledger,
  refusal: { proposal: string; actor: string; action: string },
  error: unknown,
): Promise<never> {
  const decision =
    isChangeproofError(error) && error.category !== 'internal' && error.category !== 'upstream';
  if (decision && !recorded.has(error)) {
    recorded.add(error);
    await recordEvidence(
      ledger,
      'proposal.refused',
      `proposal:${refusal.proposal}`,
      refusal.actor,
      {
        ...refusal,
        code: error.code,
        reason: messageOf(error),
      },
    );
  }
  throw error;
}

/** Runs `work`; a refusal it throws is recorded, then rethrown. */
export async function refusing<T>(
  ledger: Ledger,
  refusal: { proposal: string; actor: string; action: string },
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return recordRefusal(ledger, refusal, error);
  }
}
