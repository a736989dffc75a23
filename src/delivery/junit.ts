/** Counts from a JUnit XML report, as CI servers summarise it. */
export interface JunitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

const counted = ['tests', 'failures', 'errors', 'skipped'] as const;

/**
 * Summarises a JUnit XML report: the `<testsuites>` totals when present, else the sum over
 * `<testsuite>` elements, else a count of `<testcase>` elements and their `<failure>`, `<error>`
 * and `<skipped>` children (Node's junit reporter writes no totals). Undefined when the file
 * holds no test at all.
 */
export function summariseJunit(xml: string): JunitSummary | undefined {
  const root = /<testsuites\b([^>]*)>/.exec(xml);
  const rootCounts = root ? attributeCounts(root[1]!) : undefined;
  if (rootCounts && rootCounts.tests > 0) return rootCounts;

  const suites = [...xml.matchAll(/<testsuite\b([^>]*)>/g)].map((m) => attributeCounts(m[1]!));
  const summed = suites.reduce(add, { tests: 0, failures: 0, errors: 0, skipped: 0 });
  if (summed.tests > 0) return summed;

  const count = (pattern: RegExp) => [...xml.matchAll(pattern)].length;
  const tests = count(/<testcase\b/g);
  if (tests === 0) return undefined;
  return {
    tests,
    failures: count(/<failure\b/g),
    errors: count(/<error\b/g),
    skipped: count(/<skipped\b/g),
  };
}

function add(sum: JunitSummary, suite: JunitSummary): JunitSummary {
  return {
    tests: sum.tests + suite.tests,
    failures: sum.failures + suite.failures,
    errors: sum.errors + suite.errors,
    skipped: sum.skipped + suite.skipped,
  };
}

function attributeCounts(attributes: string): JunitSummary {
  const value = (name: string) => {
    const match = new RegExp(`\\b${name}\\s*=\\s*["'](\\d+)["']`).exec(attributes);
    return match ? Number(match[1]) : 0;
  };
  const summary = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const name of counted) summary[name] = value(name);
  // Some reporters write `disabled` instead of `skipped`.
  if (summary.skipped === 0) summary.skipped = value('disabled');
  return summary;
}
