import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { git } from '../../src/gitops/git.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { openWorkspace } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
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
    const totals = { kills: 0, acknowledgedMerges: 0, finishedOnRestart: 0 };
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
      totals.finishedOnRestart += await checkAfterKill(workspace, initialMain, acknowledged);
      figures(context, totals);
    }
    expect(totals.acknowledgedMerges).toBeGreaterThan(0);
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
    for (const proposal of after.filter((p) => p.state === 'merged')) {
      const entries = await ws.ledger.list({
        kind: 'proposal.merged',
        subject: `proposal:${proposal.id}`,
      });
      expect(entries, `proposal.merged entries of ${proposal.id}`).toHaveLength(1);
    }
    for (const [id, commit] of acknowledged) {
      const proposal = after.find((p) => p.id === id);
      expect(proposal).toMatchObject({ state: 'merged', mergeCommit: commit });
    }
    const merged = after.filter((p) => p.state === 'merged');
    const latest = merged.map((p) => p.mergeCommit).concat(initialMain);
    expect(latest).toContain(main);
    return finished;
  } finally {
    await ws.close();
  }
}
