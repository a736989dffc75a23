import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistryStorage } from '../../src/embedded/registry/index.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { buildReferrer, buildTestImage, subjectOf } from './fixtures.ts';
import { startTestRegistry } from './servers.ts';

describe('registry storage maintenance', () => {
  let registry: Awaited<ReturnType<typeof startTestRegistry>>;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startTestRegistry();
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterAll(() => registry.stop());

  it('lists repositories and manifests with tags, push times and subjects', async () => {
    const image = buildTestImage(100);
    await client.pushArtifact('shop/listed', image, 'v1');
    const signature = buildReferrer(subjectOf(image), MediaType.sigstoreBundle, 'sig');
    await client.pushArtifact('shop/listed', signature);
    const storage = openRegistryStorage(registry.dataDir);

    expect(storage.listRepositories()).toContain('shop/listed');
    const manifests = storage.listManifests('shop/listed');
    expect(manifests).toEqual([
      expect.objectContaining({ digest: image.manifestDigest, tags: ['v1'] }),
      expect.objectContaining({
        digest: signature.manifestDigest,
        tags: [],
        subject: image.manifestDigest,
        artifactType: MediaType.sigstoreBundle,
      }),
    ]);
    expect(Date.parse(manifests[0]!.pushedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('collects only blobs no manifest references, and only old ones', async () => {
    const kept = buildTestImage(300);
    const dropped = buildTestImage(400);
    await client.pushArtifact('shop/gc', kept, 'kept');
    await client.pushArtifact('shop/gc', dropped, 'dropped');
    const storage = openRegistryStorage(registry.dataDir);

    expect(storage.deleteManifest('shop/gc', dropped.manifestDigest)).toBe(true);
    await expect(client.getManifest('shop/gc', 'dropped')).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
    // nothing is old enough yet: a push in progress must not lose its blobs
    expect(storage.collectGarbage().deletedBlobs).toEqual([]);

    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const digest of [
      dropped.manifestDigest,
      ...dropped.blobs.map((b) => b.descriptor.digest),
    ]) {
      const path = join(registry.dataDir, 'blobs', 'sha256', digest.slice(7));
      utimesSync(path, twoHoursAgo, twoHoursAgo);
    }
    const collected = storage.collectGarbage();
    const droppedLayer = dropped.blobs[1]!.descriptor.digest;
    expect(collected.deletedBlobs).toContain(droppedLayer);
    expect(collected.deletedBlobs).toContain(dropped.manifestDigest);
    for (const digest of [kept.manifestDigest, ...kept.blobs.map((b) => b.descriptor.digest)]) {
      expect(collected.deletedBlobs).not.toContain(digest);
    }
    expect(collected.freedBytes).toBeGreaterThan(400);

    expect(await client.blobExists('shop/gc', droppedLayer)).toBe(false);
    expect((await client.getManifest('shop/gc', 'kept')).digest).toBe(kept.manifestDigest);
    const keptLayer = kept.blobs[1]!;
    expect((await client.pullBlob('shop/gc', keptLayer.descriptor.digest)).length).toBe(
      keptLayer.bytes.length,
    );
  });
});
