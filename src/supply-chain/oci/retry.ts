import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError } from '../../errors.ts';

/** How the client retries what a registry fails to answer. */
export interface RetryPolicy {
  /** Tries in all, the first included (default 4). */
  attempts: number;
  /** Delay before the first retry; doubles each time (default 200 ms). */
  baseDelayMs: number;
  /** Longest wait between tries, also the cap on a registry's `Retry-After` (default 10 s). */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

/**
 * A failure worth trying again: a 5xx, a 429, a timeout or a dropped connection. Carries the
 * registry's `Retry-After` when it sent one.
 */
export class RetryableRegistryFailure extends UpstreamError {
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: { cause?: unknown; retryAfterMs?: number; status?: number },
  ) {
    super('registry', message, {
      cause: options.cause,
      details: options.status === undefined ? {} : { status: options.status },
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Runs `operation` until it succeeds, fails with something other than a
 * {@link RetryableRegistryFailure}, or runs out of attempts. Waits grow exponentially and are
 * jittered over their upper half, so many clients retrying at once spread out.
 */
export async function withRetry<T>(policy: RetryPolicy, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof RetryableRegistryFailure) || attempt >= policy.attempts) throw error;
      await sleep(retryDelay(policy, attempt, error.retryAfterMs));
    }
  }
}

/** The wait before retry number `attempt` (1-based), honouring a registry's Retry-After. */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or bad. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
