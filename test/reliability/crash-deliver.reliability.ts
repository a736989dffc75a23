import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { deliveryFixture, type DeliveryFixture } from '../delivery/helpers/setup.ts';
import { figures, report } from './support/row.ts';
import { SEED, between, seededRandom } from './support/prng.ts';
import { Victim, fixturePath } from './support/victim.ts';

const KILLS = 10;
const MAX_KILL_DELAY_MS = 4000;

describe('crashes: deliver', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
    // The parent holds the workspace open only between kills, as a restarted server would.
  }, 60_000);
  afterAll(() => fixture?.close());

  it(`keeps every acknowledged delivery's evidence and image across ${KILLS} SIGKILLs`, async (context) => {
    const random = seededRandom(SEED + 5);
    const acknowledged = new Map<string, string>();
    const totals = { kills: 0, acknowledgedDeliveries: 0 };
    report(context, {
      area: 'Crashes',
      tried: `${KILLS} SIGKILLs of a process delivering the demo app again and again, seed ${SEED}`,
    });
    const client = new RegistryClient({ registry: fixture.registry.host, insecure: true });
    for (let round = 0; round < KILLS; round += 1) {
      const victim = new Victim(fixturePath('deliver-victim.ts'), [
        fixture.ws.paths.root,
        fixture.appDir,
        fixture.registry.host,
        String(round),
      ]);
      await victim.waitForLine((line) => line === 'ready');
      victim.go();
      await victim.waitForLine((line) => line === 'open');
      const { killed } = await victim.killAfter(between(random, 0, MAX_KILL_DELAY_MS));
      expect(killed, victim.errors).toBe(true);
      totals.kills += 1;
      for (const line of victim.lines.filter((l) => l.startsWith('delivered '))) {
        const [, run, image] = line.split(' ');
        acknowledged.set(run!, image!);
        totals.acknowledgedDeliveries += 1;
      }

      expect(
        (await verifyLedger(fixture.ws.store, fixture.ws.controlPlanePublicKey)).problems,
      ).toEqual([]);
      const completed = (await fixture.ws.ledger.list({ kind: 'delivery.completed' })).map((e) =>
        evidenceOf(e, 'delivery.completed')!,
      );
      for (const [run, image] of acknowledged) {
        expect(
          completed.filter((c) => c.run === run),
          `delivery ${run}`,
        ).toHaveLength(1);
        const [repository, digest] = image.replace(`${fixture.registry.host}/`, '').split('@');
        const pulled = await client.getManifest(repository!, digest!);
        expect(pulled.digest).toBe(digest);
      }
      figures(context, totals);
    }
    // Kills that all land before the first delivery resolves would prove nothing kept.
    expect(totals.acknowledgedDeliveries, 'deliveries acknowledged before a kill').toBeGreaterThan(
      0,
    );

    // After the last kill, a delivery in a fresh process goes through.
    await git(
      [...identityArgs('Dev', 'dev@example.test'), 'commit', '-q', '--allow-empty', '-m', 'after'],
      {
        cwd: fixture.appDir,
      },
    );
    const result = await deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, junitFile: 'junit.xml' },
      fixture.deps(),
    );
    expect(result.image).toContain('@sha256:');
  });
});
