import { beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { openStore } from '../../src/store/open.ts';
import { testSigner } from '../support/signer.ts';
import { engines, freshDatabase, type Engine } from '../support/stores.ts';
import { figures, report } from './support/row.ts';
import { SEED, between, seededRandom } from './support/prng.ts';
import { Victim, bundleFixture } from './support/victim.ts';

// SQLite alone must bring the suite to its 200 seeded kill points (see support/kill-points.ts).
const KILLS: Record<Engine, number> = { sqlite: 160, postgres: 60 };
// Long enough to reach past opening and migrating the store into a stream of appends.
const MAX_KILL_DELAY_MS: Record<Engine, number> = { sqlite: 300, postgres: 500 };

describe.each(engines)('crashes: ledger append on %s', (engine) => {
  let appender: string;
  beforeAll(async () => {
    appender = await bundleFixture('ledger-appender.ts');
  });

  it(`keeps every acknowledged entry exactly once across ${KILLS[engine]} SIGKILLs`, async (context) => {
    const kills = KILLS[engine];
    const random = seededRandom(SEED + (engine === 'sqlite' ? 1 : 2));
    const database = await freshDatabase(engine);
    const signer = testSigner();
    const acknowledged = new Map<string, number>();
    const checkedThrough = { seq: 0 };
    const totals = { kills: 0, duringOpen: 0, acknowledged: 0, checkpoints: 0 };
    report(context, {
      area: 'Crashes',
      tried: `${kills} SIGKILLs of a process appending to the ledger (${engine}), seed ${SEED}`,
    });
    const spawnRound = (round: number) => new Victim(appender, [database.url, String(round)]);

    try {
      let next = spawnRound(0);
      for (let round = 0; round < kills; round += 1) {
        // The next victim loads its modules while this one runs, so rounds cost no start-up.
        const victim = next;
        if (round + 1 < kills) next = spawnRound(round + 1);
        await victim.waitForLine((line) => line === 'ready');
        victim.go();
        const { killed } = await victim.killAfter(between(random, 0, MAX_KILL_DELAY_MS[engine]));
        expect(killed, victim.errors).toBe(true);
        totals.kills += 1;
        if (!victim.lines.includes('open')) totals.duringOpen += 1;
        const fresh = new Map<string, number>();
        for (const line of victim.lines.filter((l) => l.startsWith('ack '))) {
          const [, seq, id] = line.split(' ');
          fresh.set(id!, Number(seq));
          acknowledged.set(id!, Number(seq));
          totals.acknowledged += 1;
        }

        const seal = round % 10 === 9;
        const sealed = await checkAfterKill(
          database.url,
          signer,
          acknowledged,
          fresh,
          checkedThrough,
          seal,
        );
        if (sealed) totals.checkpoints += 1;
        figures(context, totals);
      }
      await expectNoDuplicates(database.url, acknowledged);
    } finally {
      await database.dispose();
    }
    expect(totals.acknowledged).toBeGreaterThan(kills);
  });
});

/** Reopens the store as a restarted server would and holds it to what was acknowledged. */
async function checkAfterKill(
  url: string,
  signer: ReturnType<typeof testSigner>,
  acknowledged: Map<string, number>,
  fresh: Map<string, number>,
  checkedThrough: { seq: number },
  seal: boolean,
): Promise<boolean> {
  const store = await openStore(url);
  try {
    const verification = await verifyLedger(store, signer.publicKeyPem);
    expect(verification.problems).toEqual([]);
    const ledger = new Ledger(store);
    // Entries acknowledged in earlier rounds were checked then; the hash chain and the head
    // (nothing truncated below the highest acknowledged seq) keep them checked now.
    const highest = Math.max(0, ...acknowledged.values());
    expect((await ledger.head())?.seq ?? 0).toBeGreaterThanOrEqual(highest);
    const entries = await ledger.list({ kind: 'test.crash', afterSeq: checkedThrough.seq });
    const idAt = new Map(entries.map((entry) => [entry.seq, String(entry.payload.id)]));
    for (const [id, seq] of fresh) expect(idAt.get(seq), `acknowledged ${id} at ${seq}`).toBe(id);
    checkedThrough.seq = (await ledger.head())?.seq ?? 0;
    if (seal && (await ledger.head())) {
      await ledger.seal(signer);
      return true;
    }
    return false;
  } finally {
    await store.close();
  }
}

async function expectNoDuplicates(url: string, acknowledged: Map<string, number>): Promise<void> {
  const store = await openStore(url);
  try {
    const entries = await new Ledger(store).list({ kind: 'test.crash' });
    const seen = new Map<string, number>();
    for (const entry of entries) {
      const id = String(entry.payload.id);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect([...seen].filter(([, count]) => count > 1)).toEqual([]);
    expect([...acknowledged.keys()].filter((id) => !seen.has(id))).toEqual([]);
  } finally {
    await store.close();
  }
}
