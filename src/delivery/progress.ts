import type { DeliveryStepName } from './run.ts';

/** What a delivery run reports while it runs; the CLI draws it, tests may collect it. */
export interface DeliveryProgress {
  started(step: DeliveryStepName | 'source', detail?: string): void;
  finished(
    step: DeliveryStepName | 'source',
    status: 'passed' | 'failed' | 'skipped',
    durationMs: number,
    detail?: string,
  ): void;
}

/** Reports nothing: for library callers and benchmarks. */
export const silentProgress: DeliveryProgress = { started() {}, finished() {} };

const marks = { passed: 'ok', failed: 'FAILED', skipped: 'skipped' } as const;

/**
 * Progress for a terminal or a CI log, written to `stream` (stderr). On a TTY the current step
 * shows a ticking line that is replaced by its result; otherwise each step prints one plain line
 * when it ends, which reads well in CI consoles.
 */
export function streamProgress(stream: NodeJS.WriteStream): DeliveryProgress {
  const live = stream.isTTY === true;
  const frames = ['|', '/', '-', '\\'];
  let timer: NodeJS.Timeout | undefined;
  const stopTicking = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (live) stream.write('\r\x1b[2K');
  };
  return {
    started(step, detail) {
      if (!live) return;
      const began = Date.now();
      let frame = 0;
      const draw = () => {
        const seconds = ((Date.now() - began) / 1000).toFixed(1);
        stream.write(
          `\r\x1b[2K${frames[frame++ % frames.length]} ${step} ${detail ?? ''} ${seconds}s`,
        );
      };
      draw();
      timer = setInterval(draw, 100);
      timer.unref();
    },
    finished(step, status, durationMs, detail) {
      stopTicking();
      const seconds = (durationMs / 1000).toFixed(2);
      stream.write(
        `deliver: ${step.padEnd(7)} ${marks[status].padEnd(7)} ${seconds}s${detail ? `  ${detail}` : ''}\n`,
      );
    },
  };
}
