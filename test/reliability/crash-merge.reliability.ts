import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { git } from '../../src/gitops/git.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { openWorkspace } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { createTestBed, propose } from '../change/helpers.ts';
import { figures, report } from './support/row.ts';
import { SEED, between, seededRandom } from './support/prng.ts';
import { Victim, bundleFixture } from './support/victim.ts';

const KILLS = 30;
// A signed commit, a proposal with its render check and a merge take about a second here.
const MAX_KILL_DELAY_MS = 2500;

describe('crashes: forge merge', () => {
  let root: string;
  let workspace: string;
  let program: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'changeproof-crash-merge-'));
    workspace = join(root, 'ws');
    await initWorkspace({ dir: workspace, name: 'crash' });
    program = await bundleFixture('merge-victim.ts');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(`keeps main at a merged commit and the forge's records in step across ${KILLS} SIGKILLs`, async (context) => {
    const random = seededRandom(SEED + 3);
    const acknowledged = new Map<string, string>();
    const totals = {
      kills: 0,
      acknowledgedMerges: 0,
      finishedOnRestart: 0,
      mergedWithoutEvidence: 0,
    };
    const unrecorded = new Set<string>();
    report(context, {
      area: 'Crashes',
      tried: `${KILLS} SIGKILLs of a process proposing and merging signed bumps, seed ${SEED}`,
    });
    const initialMain = await mainOf(workspace);
    const spawnRound = (round: number) => new Victim(program, [workspace, String(round)]);

    let next = spawnRound(0);
    for (let round = 0; round < KILLS; round += 1) {
      const victim = next;
      if (round + 1 < KILLS) next = spawnRound(round + 1);
      await victim.waitForLine((line) => line === 'ready');
      victim.go();
      const { killed } = await victim.killAfter(between(random, 0, MAX_KILL_DELAY_MS));
      expect(killed, victim.errors).toBe(true);
      totals.kills += 1;
      for (const line of victim.lines.filter((l) => l.startsWith('merged '))) {
        const [, id, commit] = line.split(' ');
        acknowledged.set(id!, commit!);
        totals.acknowledgedMerges += 1;
      }
      totals.finishedOnRestart += await checkAfterKill(
        workspace,
        initialMain,
        acknowledged,
        unrecorded,
      );
      totals.mergedWithoutEvidence = unrecorded.size;
      figures(context, totals);
    }
    expect(totals.acknowledgedMerges).toBeGreaterThan(0);
  });
});

describe('crashes: forge merge, killed between the merge and its evidence', () => {
  // A kill between the merge and its proposal.merged entry leaves main moved and the proposal
  // merged with no evidence; the forge records such merges (marked recovered) at start-up and
  // before the next merge, and moves their change records on.
  it('records the merge when the next operation finds it merged without evidence', async (context) => {
    report(context, {
      area: 'Crashes',
      tried:
        'a merge killed after it was marked merged, before proposal.merged was appended (exact state)',
    });
    const bed = await createTestBed();
    try {
      await bed.bump('interrupted', 'dev', 'v77');
      const proposal = await propose(bed, 'interrupted');
      // What the kill leaves: main moved and the proposal marked merged, nothing in the ledger.
      await git(['update-ref', 'refs/heads/main', proposal.headCommit], {
        cwd: bed.ws.paths.configRepo,
      });
      await bed.ws.store.db
        .updateTable('forge_proposals')
        .set({ state: 'merged', merge_commit: proposal.headCommit, merged_by: 'alice' })
        .where('id', '=', proposal.id)
        .execute();

      // The next operations: a restart opens change management and reads the proposal.
      const cm = changeManagementFor(bed.ws);
      expect((await cm.forge.getProposal(proposal.id)).state).toBe('merged');
      await cm.service.merge(bed.as('alice'), proposal.id).catch(() => undefined);
      const entries = await bed.ws.ledger.list({
        kind: 'proposal.merged',
        subject: `proposal:${proposal.id}`,
      });
      expect(entries).toHaveLength(1);
      expect(entries[0]!.payload).toMatchObject({ recovered: true, mergedBy: 'alice' });
    } finally {
      await bed.dispose();
    }
  });
});

async function mainOf(workspace: string): Promise<string> {
  return (await git(['rev-parse', 'main'], { cwd: join(workspace, 'config-repo.git') })).trim();
}

/**
 * Restarts as the server would: main must sit at the commit before or after a merge; the next
 * operation (merging what the killed process had moved main to) brings the records in step; then
 * every merged proposal has its merged entry once and every acknowledged merge is merged.
 * Returns how many merges the restart had to finish.
 */
async function checkAfterKill(
  workspace: string,
  initialMain: string,
  acknowledged: Map<string, string>,
  unrecorded: Set<string>,
): Promise<number> {
  const ws = await openWorkspace(workspace);
  try {
    expect((await verifyLedger(ws.store, ws.controlPlanePublicKey)).problems).toEqual([]);
    const cm = changeManagementFor(ws);
    const main = (await git(['rev-parse', 'main'], { cwd: ws.paths.configRepo })).trim();
    const proposals = await cm.forge.listProposals();
    const heads = new Set([initialMain, ...proposals.map((p) => p.headCommit)]);
    expect(heads.has(main), `main ${main} is neither the start nor a proposal head`).toBe(true);

    let finished = 0;
    for (const proposal of proposals.filter((p) => p.state === 'open' && p.headCommit === main)) {
      await cm.service.merge(cm.identity.actorFor('alice'), proposal.id);
      finished += 1;
    }

    const after = await cm.forge.listProposals();
    const mergedEntries = await ws.ledger.list({ kind: 'proposal.merged' });
    const entriesOf = (id: string) =>
      mergedEntries.filter((entry) => entry.subject === `proposal:${id}`).length;
    for (const proposal of after.filter((p) => p.state === 'merged')) {
      // Never twice; missing only for a merge the kill interrupted (see the test below).
      expect(entriesOf(proposal.id), `proposal.merged entries of ${proposal.id}`).toBeLessThan(2);
      if (entriesOf(proposal.id) === 0) unrecorded.add(proposal.id);
    }
    for (const [id, commit] of acknowledged) {
      const proposal = after.find((p) => p.id === id);
      expect(proposal).toMatchObject({ state: 'merged', mergeCommit: commit });
      expect(entriesOf(id), `acknowledged merge ${id}`).toBe(1);
    }
    const merged = after.filter((p) => p.state === 'merged');
    const latest = merged.map((p) => p.mergeCommit).concat(initialMain);
    expect(latest).toContain(main);
    return finished;
  } finally {
    await ws.close();
  }
}
