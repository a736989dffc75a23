import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { kubectl } from '../sandbox/helpers.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../reconcile/fixtures.ts';
import type { EngineWorld } from './fixtures/engine-victim.ts';
import { figures, report } from './support/row.ts';
import { SEED, between, seededRandom } from './support/prng.ts';
import { Victim, bundleFixture } from './support/victim.ts';

const KILLS = 12;
const MAX_KILL_DELAY_MS = 3000;

describe('crashes: CD engine sync', () => {
  let world: CdWorld;
  let program: string;
  let worldFile: string;
  beforeAll(async () => {
    world = await startCdWorld();
    program = await bundleFixture('engine-victim.ts');
    worldFile = join(world.dir, 'engine-world.json');
    const description: EngineWorld = {
      database: databaseOf(world),
      configRepo: world.bare,
      kubeconfig: world.sandbox.kubeconfig,
      pipelinePublicKeyPem: world.pipeline.publicKeyPem,
      cacheDir: join(world.dir, 'victim-cache'),
    };
    writeFileSync(worldFile, JSON.stringify(description));
  }, 60_000);
  afterAll(() => world?.close());

  it(`converges to the approved state after ${KILLS} SIGKILLs of the engine mid-sync`, async (context) => {
    const random = seededRandom(SEED + 4);
    const totals = { kills: 0, killsMidSync: 0, entriesSeenBeforeKills: 0, syncsStarted: 0 };
    report(context, {
      area: 'Crashes',
      tried: `${KILLS} SIGKILLs of the CD engine while it syncs a new approved commit, seed ${SEED}`,
    });
    let approvedImage = '';
    let approvedCommit = '';
    for (let round = 0; round < KILLS; round += 1) {
      approvedImage = await world.pushImage(`round-${round}`);
      approvedCommit = await world.commit(appFiles(approvedImage));
      const victim = new Victim(program, [worldFile]);
      await victim.waitForLine((line) => line === 'ready');
      victim.go();
      // Every fourth kill waits for the sync to start, so some land inside a sync whatever the
      // machine's speed; the others fall at seeded random points before, during or after it.
      const delay = between(random, 0, MAX_KILL_DELAY_MS);
      if (round % 4 === 0) await syncStarted(world, approvedCommit);
      const { killed } = await victim.killAfter(round % 4 === 0 ? 0 : delay);
      expect(killed, victim.errors).toBe(true);
      totals.kills += 1;

      // What the ledger held when the engine died must all still be there, and verify.
      const head = (await world.ledger.head())?.seq ?? 0;
      const verification = await verifyLedger(
        world.ledger['store'],
        world.controlPlane.publicKeyPem,
      );
      expect(verification.problems).toEqual([]);
      expect(verification.entries).toBe(head);
      totals.entriesSeenBeforeKills = head;
      totals.syncsStarted = (await world.ledger.list({ kind: 'sync.started' })).length;
      if (await syncLeftOpen(world, approvedCommit)) totals.killsMidSync += 1;
      figures(context, totals);
      await expectNoDuplicateCompletions(world);
    }
    // Kills that all land before or after a sync would prove nothing about a sync interrupted.
    expect(
      totals.killsMidSync,
      'kills that landed between sync.started and its outcome',
    ).toBeGreaterThan(0);

    // The next engine start converges on the last approved commit.
    const engine = await world.startEngine();
    const completed = await eventually(
      async () =>
        (await world.ledger.list({ kind: 'sync.completed' }))
          .map((e) => evidenceOf(e, 'sync.completed')!)
          .find((p) => p.configCommit === approvedCommit),
      30_000,
    );
    expect(completed.liveDigest).toBe(completed.desiredDigest);
    const image = await kubectl(world.sandbox, [
      'get',
      'deployment',
      'checkout',
      '-n',
      'checkout-dev',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    expect(image.stdout).toBe(approvedImage);
    await eventually(async () => engine.applications()[0]?.health === 'Healthy', 20_000);
    expect((await verifyLedger(world.ledger['store'], world.controlPlane.publicKeyPem)).ok).toBe(
      true,
    );
    await expectNoDuplicateCompletions(world);
  });
});

/** Resolves once the ledger holds a `sync.started` for `commit`. */
async function syncStarted(world: CdWorld, commit: string): Promise<void> {
  await eventually(async () => {
    const started = await world.ledger.list({ kind: 'sync.started' });
    return started.some((e) => evidenceOf(e, 'sync.started')?.configCommit === commit) || undefined;
  }, 30_000);
}

/** True when the commit's last sync was started and the kill came before its outcome. */
async function syncLeftOpen(world: CdWorld, commit: string): Promise<boolean> {
  const started = (await world.ledger.list({ kind: 'sync.started' }))
    .map((e) => evidenceOf(e, 'sync.started')!)
    .filter((s) => s.configCommit === commit);
  const last = started.at(-1);
  if (!last) return false;
  const outcomes = await world.ledger.list({ subject: `deployment:${last.deployment}` });
  return outcomes.every((e) => e.kind === 'sync.started');
}

/** One sync.completed per deployment and per approved commit, however often the engine died. */
async function expectNoDuplicateCompletions(world: CdWorld): Promise<void> {
  const completed = (await world.ledger.list({ kind: 'sync.completed' })).map((e) =>
    evidenceOf(e, 'sync.completed')!,
  );
  const repeated = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
  expect(repeated(completed.map((c) => c.deployment)), 'deployments completed twice').toEqual([]);
  expect(repeated(completed.map((c) => c.configCommit)), 'commits completed twice').toEqual([]);
}

/** The world's ledger database URL, which the engine in the child process opens too. */
function databaseOf(world: CdWorld): string {
  return `sqlite:${world.ledger['store'].location}`;
}
