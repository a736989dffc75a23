import type { LedgerEntry } from '../ledger/entry.ts';
import type { Ledger } from '../ledger/ledger.ts';

/**
 * A place evidence is announced beyond the ledger (Datadog, a CDEvents endpoint). Sinks are
 * told after the fact and never decide anything: the ledger stays the record, and a sink that is
 * down delays the announcement, not the delivery.
 */
export interface EvidenceSink {
  readonly name: string;
  /** Announces one ledger entry; kinds the sink has no use for are skipped. */
  publish(entry: LedgerEntry): Promise<void>;
}

/**
 * Forwards ledger entries after `afterSeq` to every sink in order, and returns the last sequence
 * number each sink has accepted (the caller keeps it and resumes there; a failed sink is retried
 * from its last accepted entry next time).
 */
export async function forwardLedger(
  ledger: Ledger,
  sinks: EvidenceSink[],
  positions: Record<string, number>,
): Promise<{ positions: Record<string, number>; failures: { sink: string; error: unknown }[] }> {
  const next = { ...positions };
  const failures: { sink: string; error: unknown }[] = [];
  for (const sink of sinks) {
    const entries = await ledger.list({ afterSeq: next[sink.name] ?? 0, limit: 500 });
    for (const entry of entries) {
      try {
        await sink.publish(entry);
        next[sink.name] = entry.seq;
      } catch (error) {
        failures.push({ sink: sink.name, error });
        break;
      }
    }
  }
  return { positions: next, failures };
}
