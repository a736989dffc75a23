import type { TestContext } from 'vitest';

/** What one reliability row tried and what it measured, shown in the suite's table. */
export interface RowReport {
  /** The table's group: Crashes, Outside failures, Load, Hostile input, Secrets. */
  area: string;
  /** What was done to the system, with counts, e.g. "212 SIGKILLs during ledger appends". */
  tried: string;
  /** Figures measured on the way, e.g. { acknowledged: 4200, p99: '12 ms' }. */
  figures?: Record<string, string | number>;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: RowReport;
  }
}

/**
 * Attaches (or updates) the row's report to the running test. Call it as figures come in, so a
 * row that fails half-way still shows what it had tried.
 */
export function report(context: TestContext, row: RowReport): void {
  const previous = context.task.meta.reliability;
  context.task.meta.reliability = {
    ...row,
    figures: { ...previous?.figures, ...row.figures },
  };
}

/** Adds figures to the row already reported. */
export function figures(context: TestContext, values: Record<string, string | number>): void {
  const previous = context.task.meta.reliability;
  if (!previous) throw new Error('report the row before adding figures to it');
  report(context, { ...previous, figures: values });
}

/** The p-th percentile (0..100) of `samples`, nearest rank; 0 when there are none. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, rank)]!;
}

/** Milliseconds with one decimal, for figures. */
export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** Mebibytes, for RSS figures. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
