import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamProgress } from '../../src/delivery/progress.ts';

/** A stand-in for stderr that keeps what was written; a terminal or a CI log by `isTTY`. */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  const target = { isTTY, write: (text: string) => writes.push(text) > 0 };
  return { writes, target: target as unknown as NodeJS.WriteStream };
}

describe('deliver progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  describe('on a terminal', () => {
    it('ticks the running step on one line, then replaces it with the result', () => {
      const { writes, target } = stream(true);
      const progress = streamProgress(target);

      progress.started('build', 'checkout');
      vi.advanceTimersByTime(350);
      progress.finished('build', 'passed', 350);
      vi.advanceTimersByTime(1000);

      const ticks = writes.filter((w) => w.startsWith('\r\x1b[2K') && w.includes('build'));
      expect(ticks.map((t) => t.slice(5, 6))).toEqual(['|', '/', '-', '\\']);
      expect(ticks.at(-1)).toMatch(/ build checkout 0\.3s$/);
      // The ticking line is cleared before the result, and nothing ticks after it.
      expect(writes.slice(-2)).toEqual(['\r\x1b[2K', 'deliver: build   ok      0.35s\n']);
    });
  });

  describe('in a CI log', () => {
    it('writes one plain line per step as it ends, and no control characters', () => {
      const { writes, target } = stream(false);
      const progress = streamProgress(target);

      progress.started('scan');
      vi.advanceTimersByTime(500);
      progress.finished('scan', 'failed', 500, 'blocked: 1 critical');

      expect(writes).toEqual(['deliver: scan    FAILED  0.50s  blocked: 1 critical\n']);
    });
  });
});
