import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ledger } from '../ledger/ledger.ts';
import { forwardLedger, type EvidenceSink } from './sink.ts';

export interface LedgerForwarderOptions {
  ledger: Ledger;
  sinks: EvidenceSink[];
  /** Where each sink's last accepted sequence number is kept across restarts. */
  positionsFile: string;
  intervalMs: number;
  /** Told about a sink that refused or was unreachable; it is retried from where it stopped. */
  onFailure: (sink: string, error: unknown) => void;
}

export interface LedgerForwarder {
  /** Forwards what is new now (also what the timer does); resolves when done. */
  forward(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Forwards new ledger entries to the configured sinks on an interval, one pass at a time, and
 * persists each sink's position after every pass so a restart resumes instead of repeating.
 */
export function startLedgerForwarder(options: LedgerForwarderOptions): LedgerForwarder {
  let positions = readPositions(options.positionsFile);
  let running: Promise<Record<string, number>> | undefined;

  const forward = () => {
    // One pass at a time: a slow sink must not have two passes sending the same entries.
    running ??= pass().finally(() => (running = undefined));
    return running;
  };
  const pass = async () => {
    const result = await forwardLedger(options.ledger, options.sinks, positions);
    positions = result.positions;
    writePositions(options.positionsFile, positions);
    for (const failure of result.failures) options.onFailure(failure.sink, failure.error);
    return positions;
  };

  const timer = setInterval(() => void forward().catch(() => undefined), options.intervalMs);
  timer.unref();
  return {
    forward,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

function readPositions(file: string): Record<string, number> {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
}

function writePositions(file: string, positions: Record<string, number>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.partial`, `${JSON.stringify(positions)}\n`);
  // rename is atomic: a crash leaves the old positions, which only repeats a few announcements.
  renameSync(`${file}.partial`, file);
}
