import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { verifyEnvelope, type DsseEnvelope } from '../../src/supply-chain/dsse.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from './fixtures.ts';

/*
 * The engine verifies on its own, per environment, every `verifyInterval`: nobody calls verify()
 * here. `dev` verifies every second; `archive`, on the same cluster, once an hour, so within the
 * test it must never be verified.
 */
describe('scheduled verification', () => {
  let world: CdWorld;

  beforeAll(async () => {
    world = await startCdWorld();
    const image = await world.pushImage('scheduled');
    await world.commit({
      ...appFiles(image, { env: 'dev' }),
      ...appFiles(image, { env: 'archive' }),
    });
    await world.startEngine({
      scheduleVerification: true,
      environments: [
        world.environment('dev', { verifyInterval: '1s', syncTimeout: '5s' }),
        { ...world.environment('archive', { verifyInterval: '1h' }), cluster: 'dev' },
      ],
    });
  }, 60_000);
  afterAll(() => world?.close());

  const sealed = async (app: string) =>
    (await world.ledger.list({ kind: 'verification.sealed', subject: `app:${app}` })).map(
      (entry) => ({ actor: entry.actor, ...evidenceOf(entry, 'verification.sealed')! }),
    );

  const deployments = (app: string) =>
    world.ledger.list({ kind: 'sync.completed', subject: `deployment:${app}/*` });

  it('seals a verification of each synced application on its interval, by itself', async () => {
    const verifications = await eventually(async () => {
      const found = await sealed('dev/checkout');
      return found.length >= 2 && found;
    }, 30_000);

    const [deployed] = await deployments('dev/checkout');
    const deployment = evidenceOf(deployed!, 'sync.completed')!;
    for (const verification of verifications.slice(0, 2)) {
      expect(verification).toMatchObject({
        actor: 'system:cd-engine',
        app: 'dev/checkout',
        equal: true,
        configCommit: deployment.configCommit,
        desiredDigest: deployment.desiredDigest,
        liveDigest: deployment.desiredDigest,
      });
      const envelope = verification.attestation as unknown as DsseEnvelope;
      expect(verifyEnvelope(envelope, world.controlPlane.publicKeyPem)).toBe(true);
    }
    // Two separate runs, each with its own attestation.
    expect(verifications[0]!.attestation).not.toEqual(verifications[1]!.attestation);
  });

  it('keeps to each environment its own interval', async () => {
    await eventually(async () => (await deployments('archive/checkout')).length > 0);
    const before = (await sealed('dev/checkout')).length;

    // dev is verified again after archive synced; archive, on its hourly interval, is not.
    await eventually(async () => (await sealed('dev/checkout')).length > before, 30_000);

    expect(await sealed('archive/checkout')).toEqual([]);
  });
});
