import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import type { RowReport } from './row.ts';

interface Row extends RowReport {
  test: string;
  held: 'yes' | 'NO' | 'skipped' | 'known bug';
}

/**
 * Prints the reliability suite's table after the run (what was tried, whether it held, the
 * figures) and writes it as Markdown to test-results/reliability.md for the README.
 */
export default class ReliabilityTableReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = testModules.flatMap((module) => [...module.children.allTests()].map(toRow));
    if (rows.length === 0) return;
    const table = renderTable(rows);
    process.stdout.write(`\nReliability and security suite\n\n${table}\n`);
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', 'reliability.md'), `${table}\n`);
  }
}

function toRow(test: TestCase): Row {
  const meta = test.meta().reliability;
  const state = test.result().state;
  const knownBug = test.options.mode === 'run' && test.options.fails === true;
  const held = knownBug
    ? 'known bug'
    : state === 'passed'
      ? 'yes'
      : state === 'skipped'
        ? 'skipped'
        : 'NO';
  return {
    test: test.name,
    area: meta?.area ?? test.module.moduleId.split('/').pop()!.replace('.reliability.ts', ''),
    tried: meta?.tried ?? test.name,
    figures: meta?.figures ?? {},
    held,
  };
}

function renderTable(rows: Row[]): string {
  const lines = [
    '| Area | What was tried | Held | Figures |',
    '|---|---|---|---|',
    ...rows.map((row) => {
      const figures = Object.entries(row.figures ?? {})
        .map(([name, value]) => `${name} ${value}`)
        .join('; ');
      return `| ${row.area} | ${escape(row.tried)} | ${row.held} | ${escape(figures)} |`;
    }),
  ];
  return lines.join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
