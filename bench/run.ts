import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { meetsTarget, type Benchmark, type BenchResult } from './harness.ts';

/** Runs every bench/*.bench.ts (or those whose name contains argv[2]) and prints a table. */
async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const filter = process.argv[2];
  const files = readdirSync(here)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => !filter || file.includes(filter))
    .sort();
  const results: (BenchResult & { benchmark: string; meets?: boolean })[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(here, file)).href)) as {
      benchmarks: Benchmark[];
    };
    for (const benchmark of module.benchmarks) {
      process.stderr.write(`bench: ${benchmark.name}\n`);
      for (const result of await benchmark.run()) {
        results.push({ ...result, benchmark: benchmark.name, meets: meetsTarget(result) });
      }
    }
  }
  printTable(results);
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'latest.json');
  writeFileSync(outFile, JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
  console.log(`\nresults written to ${outFile}`);
}

function printTable(results: (BenchResult & { meets?: boolean })[]): void {
  const rows = results.map((r) => [
    r.name,
    `${format(r.value)} ${r.unit}`,
    r.target ? `${r.target.better === 'higher' ? '>=' : '<='} ${format(r.target.value)}` : '',
    r.peer ? `${r.peer.name}: ${format(r.peer.value)} ${r.peer.unit}` : '',
    r.ratio === undefined ? '' : format(r.ratio),
    r.meets === undefined ? '' : r.meets ? 'yes' : 'NO',
  ]);
  const header = ['measure', 'value', 'target', 'peer or limit (same run)', 'ratio', 'meets'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

function format(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

await main();
