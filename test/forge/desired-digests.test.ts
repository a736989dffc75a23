import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { approvedDesiredDigests } from '../../src/embedded/forge/desired-digests.ts';
import { appFiles, eventually, startCdWorld, type CdWorld } from '../reconcile/fixtures.ts';

describe('approvedDesiredDigests', () => {
  let world: CdWorld;
  let commit: string;

  beforeAll(async () => {
    world = await startCdWorld();
    commit = await world.commit(appFiles(await world.pushImage('v1')));
    await world.startEngine();
  }, 60_000);
  afterAll(() => world?.close());

  it('gives the digest the CD engine applies for the same commit', async () => {
    const completed = await eventually(async () => {
      const [entry] = await world.ledger.list({ kind: 'sync.completed' });
      return entry && evidenceOf(entry, 'sync.completed');
    });
    expect(completed.configCommit).toBe(commit);

    const approved = await approvedDesiredDigests(world.bare, {
      headCommit: commit,
      changedPaths: ['apps/checkout/overlays/dev/kustomization.yaml'],
    });

    expect(approved).toEqual([{ app: 'dev/checkout', digest: completed.desiredDigest }]);
  });

  it('digests nothing for a proposal that touches no application', async () => {
    const approved = await approvedDesiredDigests(world.bare, {
      headCommit: commit,
      changedPaths: ['environments/dev.yaml', 'README.md'],
    });
    expect(approved).toEqual([]);
  });
});
