import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { git } from '../../src/gitops/git.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { silentLogger } from '../../src/log.ts';
import { startControlPlane } from '../../src/server/control-plane.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
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
      recoveredAtStartUp: 0,
      finishedOnRestart: 0,
    };
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
      const restart = await checkAfterKill(workspace, initialMain, acknowledged);
      totals.recoveredAtStartUp += restart.recovered;
      totals.finishedOnRestart += restart.finished;
      figures(context, totals);
    }
    expect(totals.acknowledgedMerges).toBeGreaterThan(0);
  });
});

describe('crashes: forge merge, killed between the merge and its evidence', () => {
  // A kill between the merge and its proposal.merged entry leaves main moved and the proposal
  // merged with no evidence; the control plane's start-up records such merges (marked recovered)
  // and moves their change records on, and the next merge does not record them again.
  it('records the merge at start-up when it finds it merged without evidence', async (context) => {
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

      // The restart: the control plane's start-up records the merge before anything syncs it.
      const controlPlane = await startControlPlane(bed.ws, {
        logger: silentLogger,
        port: 0,
        services: 'api',
        checkpointIntervalMs: 0,
      });
      await controlPlane.close();
      const entries = await bed.ws.ledger.list({
        kind: 'proposal.merged',
        subject: `proposal:${proposal.id}`,
      });
      expect(entries).toHaveLength(1);
      expect(entries[0]!.payload).toMatchObject({ recovered: true, mergedBy: 'alice' });

      // The next operation finds it recorded and records nothing again.
      const cm = changeManagementFor(bed.ws);
      expect((await cm.forge.getProposal(proposal.id)).state).toBe('merged');
      await cm.service.merge(bed.as('alice'), proposal.id).catch(() => undefined);
      expect(
        await bed.ws.ledger.list({ kind: 'proposal.merged', subject: `proposal:${proposal.id}` }),
      ).toHaveLength(1);
    } finally {
      await bed.dispose();
    }
  });
});

async function mainOf(workspace: string): Promise<string> {
  return (await git(['rev-parse', 'main'], { cwd: join(workspace, 'config-repo.git') })).trim();
}

/**
 * Restarts as the server does, through the control plane's start-up (which records merges a kill
 * left without evidence): then every merged proposal has its merged entry exactly once and main
 * sits at the commit before or after a merge. The next operation (merging what the killed process
 * had moved main to) finishes the rest, and every acknowledged merge is merged with its evidence.
 */
async function checkAfterKill(
  workspace: string,
  initialMain: string,
  acknowledged: Map<string, string>,
): Promise<{ recovered: number; finished: number }> {
  const ws = await openWorkspace(workspace);
  try {
    expect((await verifyLedger(ws.store, ws.controlPlanePublicKey)).problems).toEqual([]);
    const before = await ws.ledger.list({ kind: 'proposal.merged' });
    const controlPlane = await startControlPlane(ws, {
      logger: silentLogger,
      port: 0,
      services: 'api',
      checkpointIntervalMs: 0,
    });
    await controlPlane.close();
    const recovered = (await ws.ledger.list({ kind: 'proposal.merged' })).length - before.length;

    const cm = changeManagementFor(ws);
    const main = (await git(['rev-parse', 'main'], { cwd: ws.paths.configRepo })).trim();
    const proposals = await cm.forge.listProposals();
    const heads = new Set([initialMain, ...proposals.map((p) => p.headCommit)]);
    expect(heads.has(main), `main ${main} is neither the start nor a proposal head`).toBe(true);
    await expectEvidenceOfEveryMerge(ws);

    let finished = 0;
    for (const proposal of proposals.filter((p) => p.state === 'open' && p.headCommit === main)) {
      await cm.service.merge(cm.identity.actorFor('alice'), proposal.id);
      finished += 1;
    }

    const after = await cm.forge.listProposals();
    const entries = await expectEvidenceOfEveryMerge(ws);
    for (const [id, commit] of acknowledged) {
      expect(after.find((p) => p.id === id)).toMatchObject({
        state: 'merged',
        mergeCommit: commit,
      });
      expect(entries.get(id), `acknowledged merge ${id}`).toBe(1);
    }
    const latest = after.filter((p) => p.state === 'merged').map((p) => p.mergeCommit);
    expect(latest.concat(initialMain)).toContain(main);
    return { recovered, finished };
  } finally {
    await ws.close();
  }
}

/** Every merged proposal has exactly one proposal.merged entry; returns the counts by proposal. */
async function expectEvidenceOfEveryMerge(ws: WorkspaceContext): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const entry of await ws.ledger.list({ kind: 'proposal.merged' })) {
    const id = entry.subject.replace(/^proposal:/, '');
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const merged = (await changeManagementFor(ws).forge.listProposals()).filter(
    (p) => p.state === 'merged',
  );
  expect(
    merged.filter((p) => counts.get(p.id) !== 1).map((p) => `${p.id}: ${counts.get(p.id) ?? 0}`),
    'merged proposals without exactly one proposal.merged entry',
  ).toEqual([]);
  return counts;
}
