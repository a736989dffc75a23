import { stringify } from 'yaml';
import { toCsv } from '../audit/csv.ts';
import { UsageError } from '../errors.ts';

export const outputFormats = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const format = value ?? 'table';
  if (!(outputFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--output must be one of ${outputFormats.join(', ')}, not '${format}'`);
  }
  return format as OutputFormat;
}

export interface Column<T> {
  header: string;
  value(row: T): string | number | undefined;
  /** Cap the column's width; longer values are cut with an ellipsis. */
  max?: number;
}

/** A list command's formats: the common ones, plus CSV for spreadsheets (audit, metrics). */
export type ListFormat = OutputFormat | 'csv';

/**
 * The -o of a command that also offers CSV. Other commands keep {@link parseOutputFormat}, so
 * `-o csv` there stays a usage error.
 */
export function listFormat(value: string | undefined): ListFormat {
  return value === 'csv' ? 'csv' : parseOutputFormat(value);
}

/** Writes rows to stdout as an aligned table, CSV (RFC 4180, values never cut), JSON or YAML. */
export function printRows<T>(
  rows: T[],
  columns: Column<T>[],
  format: ListFormat,
  raw: unknown = rows,
): void {
  if (format === 'csv') {
    const values = rows.map((row) => columns.map((c) => c.value(row)));
    process.stdout.write(
      toCsv(
        columns.map((c) => c.header),
        values,
      ),
    );
    return;
  }
  if (format !== 'table') return printValue(raw, format);
  const cells = rows.map((row) => columns.map((c) => fit(String(c.value(row) ?? ''), c.max)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => r[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.header.toUpperCase()))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** Writes one value: JSON or YAML as asked, or YAML for a person reading a table. */
export function printValue(value: unknown, format: OutputFormat): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(stringify(value, { lineWidth: 100 }));
}

function fit(value: string, max?: number): string {
  return max && value.length > max ? `${value.slice(0, max - 1)}…` : value;
}
