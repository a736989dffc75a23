import { LeaseElector, type LeaseElectorOptions } from './index.ts';

/** Something that runs while this replica leads: the CD engine. */
export interface Stoppable {
  close(): Promise<void>;
}

/**
 * Runs `start()` only while this replica holds the Lease, and closes what it started the moment
 * leadership is lost, so two replicas never both apply. Returns a function that stops both.
 */
export function runWhileLeading(
  options: Omit<LeaseElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>,
  start: () => Promise<Stoppable>,
  onError: (error: unknown) => void,
): { elector: LeaseElector; stop(): Promise<void> } {
  let running: Promise<Stoppable | undefined> | undefined;
  const elector = new LeaseElector({
    ...options,
    onStartedLeading: () => {
      running = start().catch((error: unknown) => {
        onError(error);
        return undefined;
      });
    },
    onStoppedLeading: async () => {
      const current = running;
      running = undefined;
      await (await current)?.close();
    },
  });
  elector.start();
  return { elector, stop: () => elector.stop() };
}
