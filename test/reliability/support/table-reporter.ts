import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { MIN_KILL_POINTS, totalKillPoints, type CrashRow } from './kill-points.ts';
import type { RowReport } from './row.ts';

interface Row extends RowReport {
  test: string;
  held: 'yes' | 'NO' | 'skipped' | 'known bug' | 'not judged';
}

/**
 * Prints the reliability suite's table after the run (what was tried, whether it held, the
 * figures) and writes it as Markdown to test-results/reliability.md for the README. It also
 * totals the SIGKILLs of the crash rows and fails the run when a full run stays below the
 * minimum of seeded kill points.
 */
export default class ReliabilityTableReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const tests = testModules.flatMap((module) => [...module.children.allTests()]);
    if (tests.length === 0) return;
    const rows = tests.map(toRow);
    const killPoints = killPointRow(tests.map(toCrashRow));
    if (killPoints) rows.push(killPoints);
    if (killPoints?.held === 'NO') process.exitCode = 1;
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
    area: meta?.area ?? fileOf(test).replace('.reliability.ts', ''),
    tried: meta?.tried ?? test.name,
    figures: meta?.figures ?? {},
    held,
  };
}

function toCrashRow(test: TestCase): CrashRow {
  return {
    file: fileOf(test),
    name: test.fullName,
    kills: Number(test.meta().reliability?.figures?.kills ?? 0),
    passed: test.result().state === 'passed',
  };
}

/** The total of seeded kill points as a row of its own; none when no crash row ran. */
function killPointRow(crashRows: CrashRow[]): Row | undefined {
  const { total, withoutPostgres, held } = totalKillPoints(crashRows);
  if (total === 0) return undefined;
  return {
    test: 'seeded kill points',
    area: 'Crashes',
    tried: `all crash rows together: at least ${MIN_KILL_POINTS} seeded SIGKILLs without PostgreSQL`,
    figures: { total, 'without PostgreSQL': withoutPostgres },
    held: held === undefined ? 'not judged' : held ? 'yes' : 'NO',
  };
}

function fileOf(test: TestCase): string {
  return test.module.moduleId.split('/').pop()!;
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
