import { hash } from 'node:crypto';
import type { ControlOutcome } from '../policy/catalogue.ts';
import { AuditError } from './errors.ts';
import type { AuditedDeployment } from './types.ts';

/** The attributes tested on every sampled deployment, each read from a control's outcome. */
export const SAMPLE_ATTRIBUTES = [
  { id: 'A1', control: 'CP-01', description: 'an approved change existed before the sync started' },
  { id: 'A2', control: 'CP-02', description: 'no approver was the author or the last pusher' },
  { id: 'A3', control: 'CP-03', description: 'an approval covered the exact merged commit' },
  { id: 'A4', control: 'CP-04', description: 'a normal production change had a CAB approval' },
  {
    id: 'A5',
    control: 'CP-05',
    description: 'an emergency change was reviewed retroactively in time',
  },
  {
    id: 'A6',
    control: 'CP-06',
    description: 'every image was pinned by digest and signed by the pipeline',
  },
  { id: 'A7', control: 'CP-07', description: 'every image had provenance and an SBOM' },
  { id: 'A8', control: 'CP-08', description: 'no open critical vulnerability at deployment' },
  {
    id: 'A9',
    control: 'proof',
    description: 'the live state matched the approved state (drift answered)',
  },
] as const;

export const SAMPLING_METHOD =
  'Random selection without replacement. The population is ordered by deployment time, then ' +
  'deployment id, and numbered from 1. Draw i (from 0) takes r = the first 8 bytes, big-endian, ' +
  'of SHA-256("<seed>:<i>"), rejecting r >= 2^64 - (2^64 mod m) and drawing again with the next ' +
  'counter, then j = i + (r mod m) with m = population size - i, and swaps items i and j ' +
  '(a partial Fisher-Yates shuffle). The first <size> items are the sample, listed in population order.';

export interface LeadSheetItem {
  item: number;
  populationNumber: number;
  deployment: string;
  deployedAt: string;
  service: string;
  change: string;
  results: Record<string, 'pass' | 'fail' | 'pending' | 'n/a'>;
  exceptions: number;
  notes: string[];
  evidence: number[];
}

export interface LeadSheet {
  title: string;
  populationSource: string;
  scope: string;
  populationSize: number;
  sampleSize: number;
  seed: string;
  method: string;
  attributes: { id: string; control: string; description: string }[];
  items: LeadSheetItem[];
  exceptions: number;
  conclusion: string;
}

/** Indices (0-based, ascending) of a reproducible sample of `size` out of `populationSize`. */
export function drawSample(populationSize: number, size: number, seed: string): number[] {
  const order = Array.from({ length: populationSize }, (_, i) => i);
  const take = Math.min(size, populationSize);
  let counter = 0;
  for (let i = 0; i < take; i += 1) {
    const m = BigInt(populationSize - i);
    const limit = 2n ** 64n - (2n ** 64n % m);
    let r: bigint;
    do {
      r = hash('sha256', `${seed}:${counter}`, 'buffer').readBigUInt64BE(0);
      counter += 1;
    } while (r >= limit);
    const j = i + Number(r % m);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, take).sort((a, b) => a - b);
}

/** The lead sheet auditors expect for a sample of the population, tested attribute by attribute. */
export function buildLeadSheet(
  population: AuditedDeployment[],
  outcomes: ControlOutcome[],
  options: { size: number; seed: string; scope: string; populationSource: string },
): LeadSheet {
  if (!Number.isInteger(options.size) || options.size < 1) {
    throw new AuditError(
      'SAMPLE_INVALID',
      `--size must be a whole number from 1, not ${options.size}`,
      { category: 'usage' },
    );
  }
  if (options.seed.length === 0) {
    throw new AuditError(
      'SAMPLE_INVALID',
      '--seed must not be empty: record the seed so the sample can be redrawn',
      { category: 'usage' },
    );
  }
  const bySubject = new Map<string, ControlOutcome[]>();
  for (const o of outcomes) {
    if (!bySubject.has(o.subject)) bySubject.set(o.subject, []);
    bySubject.get(o.subject)!.push(o);
  }
  const items = drawSample(population.length, options.size, options.seed).map((index, n) =>
    testItem(n + 1, index + 1, population[index]!, bySubject),
  );
  const exceptions = items.reduce((sum, item) => sum + item.exceptions, 0);
  return {
    title: 'Lead sheet: production deployment sample',
    populationSource: options.populationSource,
    scope: options.scope,
    populationSize: population.length,
    sampleSize: items.length,
    seed: options.seed,
    method: SAMPLING_METHOD,
    attributes: SAMPLE_ATTRIBUTES.map((a) => ({ ...a })),
    items,
    exceptions,
    conclusion:
      exceptions === 0
        ? `no exceptions in ${items.length} items tested`
        : `${exceptions} exception(s) in ${items.filter((i) => i.exceptions > 0).length} of ${items.length} items tested`,
  };
}

function testItem(
  item: number,
  populationNumber: number,
  d: AuditedDeployment,
  bySubject: Map<string, ControlOutcome[]>,
): LeadSheetItem {
  const changeSubject = d.approval.change
    ? `change:${d.approval.change.id}`
    : `proposal:${d.approval.proposal?.id}`;
  const relevant = [
    ...(bySubject.get(`deployment:${d.id}`) ?? []),
    ...(bySubject.get(changeSubject) ?? []),
  ];
  const results: LeadSheetItem['results'] = {};
  const notes: string[] = [];
  for (const attribute of SAMPLE_ATTRIBUTES) {
    if (attribute.control === 'proof') {
      const unanswered = d.proof.drifts.filter((x) => !x.incident || !x.reverted);
      const ok = d.proof.verdict === 'consistent' && unanswered.length === 0;
      results[attribute.id] = ok ? 'pass' : 'fail';
      if (!ok)
        notes.push(
          `${attribute.id}: ${[...d.proof.reasons, ...unanswered.map((x) => `drift ${x.seq} unanswered`)].join('; ') || d.proof.verdict}`,
        );
      continue;
    }
    const outcome = relevant.find((o) => o.control === attribute.control);
    const status = !outcome || outcome.status === 'not-applicable' ? 'n/a' : outcome.status;
    results[attribute.id] = status;
    if (status === 'fail') notes.push(`${attribute.id}: ${outcome!.reason}`);
  }
  return {
    item,
    populationNumber,
    deployment: d.id,
    deployedAt: d.deployedAt,
    service: d.service,
    change: d.approval.change?.id ?? '',
    results,
    exceptions: Object.values(results).filter((r) => r === 'fail').length,
    notes,
    evidence: d.evidence,
  };
}
