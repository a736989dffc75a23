/**
 * Benchmarks report measured figures beside a peer or the machine's limit measured in the same
 * run, so that a slow machine does not fail a fast design and a fast machine does not hide a
 * slow one. Each bench file exports `benchmarks`.
 */
export interface BenchResult {
  /** What was measured, e.g. "ledger append (SQLite, durable)". */
  name: string;
  value: number;
  unit: string;
  /** The target from the issue, in the same unit, and whether bigger is better. */
  target?: { value: number; better: 'higher' | 'lower' };
  /** A peer or limit measured in the same run, and value / peer. */
  peer?: { name: string; value: number; unit: string };
  ratio?: number;
}

export interface Benchmark {
  name: string;
  run(): Promise<BenchResult[]>;
}

export function meetsTarget(result: BenchResult): boolean | undefined {
  if (!result.target) return undefined;
  return result.target.better === 'higher'
    ? result.value >= result.target.value
    : result.value <= result.target.value;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
