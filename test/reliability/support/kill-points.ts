/** What the issue asks of the crash rows together: at least this many seeded SIGKILLs. */
export const MIN_KILL_POINTS = 200;

/** The files whose rows kill processes; the total is judged only when all of them ran. */
export const CRASH_FILES = [
  'crash-ledger.reliability.ts',
  'crash-merge.reliability.ts',
  'crash-sync.reliability.ts',
  'crash-deliver.reliability.ts',
];

/** One crash row as the table reporter sees it. */
export interface CrashRow {
  file: string;
  /** The row's full test name, which names the store engine where it has one. */
  name: string;
  /** The `kills` figure the row reported, i.e. the SIGKILLs that landed. */
  kills: number;
  passed: boolean;
}

/** The suite's total of seeded kill points, and whether it reaches the minimum. */
export interface KillPointTotal {
  total: number;
  /** Without the PostgreSQL rows: what a machine without PostgreSQL runs. */
  withoutPostgres: number;
  /** Undefined when not every crash file ran, so no verdict can be given. */
  held?: boolean;
}

/**
 * Sums the SIGKILLs the crash rows actually delivered. The minimum must hold without PostgreSQL
 * too, so the verdict is on the total without the PostgreSQL rows; a failed crash row fails it.
 */
export function totalKillPoints(rows: CrashRow[]): KillPointTotal {
  const crash = rows.filter((row) => CRASH_FILES.includes(row.file));
  const sum = (list: CrashRow[]) => list.reduce((total, row) => total + row.kills, 0);
  const total = sum(crash);
  const withoutPostgres = sum(crash.filter((row) => !/postgres/i.test(row.name)));
  const ranAll = CRASH_FILES.every((file) => crash.some((row) => row.file === file));
  if (!ranAll) return { total, withoutPostgres };
  const held = withoutPostgres >= MIN_KILL_POINTS && crash.every((row) => row.passed);
  return { total, withoutPostgres, held };
}
