import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { decideGate, type GateInput } from '../src/change/gate.ts';
import { combineGovernance } from '../src/change/governance.ts';
import { rolesByName } from '../src/change/context.ts';
import { evaluateGate } from '../src/change/gate-runner.ts';
import type { CommitStatus, Proposal, Review } from '../src/domain/forge.ts';
import { createTestBed, propose } from '../test/change/helpers.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const HEAD = 'c'.repeat(40);

/** A production proposal with 10 reviews (mixed, some stale) and 10 statuses on its head. */
function gateInput(config: Parameters<typeof rolesByName>[0]): GateInput {
  const reviewers = ['bob', 'carol', 'dave', 'erin', 'pat'];
  const reviews: Review[] = Array.from({ length: 10 }, (_, i) => ({
    proposal: '1',
    reviewer: reviewers[i % reviewers.length]!,
    state: i === 3 || i === 9 ? 'commented' : 'approved',
    commit: i < 4 ? 'b'.repeat(40) : HEAD,
    submittedAt: new Date(1_780_000_000_000 + i * 1000).toISOString(),
  }));
  const statuses: CommitStatus[] = Array.from({ length: 10 }, (_, i) => ({
    commit: HEAD,
    context: i === 0 ? 'changeproof/render' : `ci/check-${i}`,
    state: 'success',
    description: 'ok',
    updatedAt: new Date(1_780_000_000_000).toISOString(),
  }));
  const proposal: Proposal = {
    id: '1',
    title: 'bump',
    description: '',
    author: 'alice',
    branch: 'b',
    baseBranch: 'main',
    baseCommit: 'a'.repeat(40),
    headCommit: HEAD,
    lastPusher: 'alice',
    state: 'open',
    createdAt: new Date(1_780_000_000_000).toISOString(),
    routine: true,
    env: 'prod',
    service: 'checkout',
  };
  const prod = config.environments.find((e) => e.name === 'prod')!;
  return {
    proposal,
    reviews,
    statuses,
    change: {
      number: 'CHG0000001',
      sysId: 'x',
      type: 'normal',
      state: 'Authorize',
      stateCode: -3,
      shortDescription: '',
      description: '',
      proposal: '1',
      service: 'checkout',
      env: 'prod',
      evidence: {},
      cabRequired: true,
      approvals: [],
      retroactive: false,
      openedAt: '',
      updatedAt: '',
    },
    roles: rolesByName(config),
    governance: combineGovernance(prod, { approvals: 2 }),
  };
}

function ratePerSecond(work: () => void, minimumMs = 1000): number {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < minimumMs) {
    for (let i = 0; i < 1000; i += 1) work();
    count += 1000;
  }
  return count / ((performance.now() - start) / 1000);
}

async function gateDecisions(): Promise<BenchResult[]> {
  const bed = await createTestBed();
  try {
    const input = gateInput(bed.ws.config);
    if (decideGate(input).state !== 'success') throw new Error('bench gate input must pass');
    const stored = JSON.stringify({ reviews: input.reviews, statuses: input.statuses });
    const decisions = ratePerSecond(() => decideGate(input));
    const parses = ratePerSecond(() => JSON.parse(stored));

    // The whole evaluation as the service runs it: rows read in a write-locked transaction, the
    // status written, the verdict appended to the ledger (one SQLite commit each, durable).
    await bed.bump('gate-bench', 'dev', 'bench');
    const proposal = await propose(bed, 'gate-bench');
    const rounds = 100;
    const start = performance.now();
    for (let i = 0; i < rounds; i += 1) await evaluateGate(bed.cm.context, proposal.id);
    const evaluations = rounds / ((performance.now() - start) / 1000);
    return [
      {
        name: 'gate decisions, 10 reviews + 10 statuses (pure decideGate)',
        value: Math.round(decisions),
        unit: 'decisions/s',
        target: { value: 2000, better: 'higher' },
        peer: {
          name: 'JSON.parse of the same reviews and statuses',
          value: Math.round(parses),
          unit: 'parses/s',
        },
        ratio: decisions / parses,
      },
      {
        name: 'gate evaluation with store reads, status write and ledger entry (SQLite, durable)',
        value: Math.round(evaluations),
        unit: 'evaluations/s',
      },
    ];
  } finally {
    await bed.dispose();
  }
}

async function mergeLatency(): Promise<BenchResult[]> {
  // Render checks are not part of a merge; skip kustomize so setup stays fast.
  const bed = await createTestBed({
    checks: async () => ({ state: 'success', description: 'bench' }),
  });
  try {
    const clone = join(bed.root, 'peer');
    const env = {
      PATH: process.env.PATH!,
      HOME: bed.root,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    };
    const git = (args: string[], cwd = clone) =>
      execFileSync('git', args, { cwd, env, encoding: 'utf8' });
    git(['clone', '-q', bed.ws.paths.configRepo, clone], bed.root);
    const ours: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      await bed.bump(`merge-${i}`, 'dev', `v${i}`);
      const proposal = await propose(bed, `merge-${i}`);
      git(['fetch', '-q', 'origin', `merge-${i}`]);

      const start = performance.now();
      await bed.cm.service.merge(bed.as('alice'), proposal.id);
      ours.push(performance.now() - start);

      const peerStart = performance.now();
      git(['merge', '-q', '--ff-only', 'FETCH_HEAD']);
      peer.push(performance.now() - peerStart);
    }
    const value = median(ours);
    return [
      {
        name: 'merge of a routine proposal: gate, signature check, CAS of main, records, ledger',
        value: Math.round(value * 10) / 10,
        unit: 'ms (median of 15)',
        target: { value: 200, better: 'lower' },
        peer: {
          name: 'git merge --ff-only of the same commits',
          value: Math.round(median(peer) * 10) / 10,
          unit: 'ms',
        },
        ratio: value / median(peer),
      },
    ];
  } finally {
    await bed.dispose();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'change gate', run: gateDecisions },
  { name: 'embedded forge merge', run: mergeLatency },
];
