import { ChangeproofError } from '../../../src/errors.ts';

/** Resolves with `work`, or fails if it takes longer than `ms`: a hang is a failure. */
export async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Holds `error` to what bad input must produce: a changeproof error with a stable code and a
 * single line that says what is wrong (no stack, no newline, not empty, not a novel).
 */
export function expectClearError(error: unknown): void {
  if (!(error instanceof ChangeproofError)) {
    throw new Error(`not a changeproof error: ${String(error)}`, { cause: error });
  }
  if (!error.code || error.message.length === 0 || error.message.length > 2000) {
    throw new Error(`unclear error ${error.code}: ${error.message.slice(0, 200)}`);
  }
  if (error.message.includes('\n')) {
    throw new Error(`error ${error.code} spans several lines: ${error.message.slice(0, 200)}`);
  }
}
