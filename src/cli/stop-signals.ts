/** The signals that ask a long-running command (`up`, `serve`, `sync --watch`) to stop. */
const stopSignals = ['SIGINT', 'SIGTERM'] as const;

export type StopSignal = (typeof stopSignals)[number];

/** A stop request, caught from the moment {@link watchStopSignals} is called. */
export interface StopSignals {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly requested: Promise<StopSignal>;
  /** The first signal received so far, if any. */
  readonly received: StopSignal | undefined;
  /** Stops listening, so that the signals' default action applies again. */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM until disposed. A process without a listener dies from the
 * signal itself, so a command listens before it starts anything: a Ctrl-C during start-up, or
 * pressed again while stopping, then still ends in a clean stop instead of a half-closed
 * workspace. Signals after the first go to `onRepeat`.
 */
export function watchStopSignals(onRepeat: (signal: StopSignal) => void = () => {}): StopSignals {
  let received: StopSignal | undefined;
  let resolveRequested: (signal: StopSignal) => void = () => {};
  const requested = new Promise<StopSignal>((resolve) => (resolveRequested = resolve));
  const listener = (signal: StopSignal) => {
    if (received) return onRepeat(signal);
    received = signal;
    resolveRequested(signal);
  };
  for (const signal of stopSignals) process.on(signal, listener);
  return {
    requested,
    get received() {
      return received;
    },
    dispose() {
      for (const signal of stopSignals) process.off(signal, listener);
    },
  };
}
