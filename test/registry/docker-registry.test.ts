import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { referrersFallbackTag } from '../../src/supply-chain/oci/referrers.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { buildReferrer, buildTestImage, subjectOf } from './fixtures.ts';
import { hasBinary, startDockerRegistry, warnMissing } from './servers.ts';

warnMissing('docker-registry', 'docker-registry');

// The Debian docker-registry is CNCF distribution 2.8: a registry written by others, without
// the referrers API, so the client's fallback tag index is what makes referrers work there.
describe.skipIf(!hasBinary('docker-registry'))('RegistryClient against docker-registry', () => {
  let registry: Awaited<ReturnType<typeof startDockerRegistry>>;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startDockerRegistry();
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterAll(() => registry.stop());

  it('pushes an image and pulls it back byte for byte', async () => {
    const image = buildTestImage(100_000);
    const pushed = await client.pushArtifact('shop/cart', image, 'c0ffee');

    expect(pushed.digest).toBe(image.manifestDigest);
    const pulled = await client.getManifest('shop/cart', 'c0ffee');
    expect(Buffer.from(pulled.bytes).equals(Buffer.from(image.manifestBytes))).toBe(true);
    for (const blob of image.blobs) {
      const bytes = await client.pullBlob('shop/cart', blob.descriptor.digest);
      expect(Buffer.from(bytes).equals(Buffer.from(blob.bytes))).toBe(true);
    }
  });

  it('uploads in chunks through its stateful upload URLs', async () => {
    const image = buildTestImage(200_000);
    const layer = image.blobs[1]!;
    await client.pushBlob('shop/chunks', layer.bytes, { monolithicLimit: 1, chunkSize: 50_000 });
    expect(await client.blobExists('shop/chunks', layer.descriptor.digest)).toBe(true);
  });

  it('mounts a blob from another repository', async () => {
    const bytes = Buffer.from('shared base layer');
    await client.pushBlob('shop/base', bytes);
    const mounted = await client.pushBlob('shop/app', bytes, { from: 'shop/base' });
    expect(mounted.digest).toBe(sha256Digest(bytes));
    expect(await client.blobExists('shop/app', mounted.digest)).toBe(true);
  });

  it('lists tags across Link pages', async () => {
    const image = buildTestImage(10);
    for (const tag of ['r1', 'r2', 'r3']) await client.pushArtifact('shop/tags', image, tag);
    expect(await client.listTags('shop/tags', { pageSize: 1 })).toEqual(['r1', 'r2', 'r3']);
  });

  it('finds referrers through the sha256-<hex> tag index when the API is missing', async () => {
    const image = buildTestImage(100);
    await client.pushArtifact('shop/signed', image, 'v1');
    const apiProbe = await fetch(
      `http://${registry.host}/v2/shop/signed/referrers/${image.manifestDigest}`,
    );
    expect(apiProbe.status).toBe(404);

    const signature = buildReferrer(subjectOf(image), MediaType.sigstoreBundle, 'signature');
    const sbom = buildReferrer(subjectOf(image), 'application/vnd.cyclonedx+json', 'sbom');
    await client.pushArtifact('shop/signed', signature);
    await client.pushArtifact('shop/signed', sbom);

    const fallbackTag = referrersFallbackTag(image.manifestDigest);
    expect(await client.listTags('shop/signed')).toContain(fallbackTag);
    const index = await client.getManifest('shop/signed', fallbackTag);
    expect(index.mediaType).toBe(MediaType.imageIndex);

    const all = await client.referrers('shop/signed', image.manifestDigest);
    expect(all.map((d) => d.digest)).toEqual([signature.manifestDigest, sbom.manifestDigest]);
    const bundles = await client.referrers('shop/signed', image.manifestDigest, {
      artifactType: MediaType.sigstoreBundle,
    });
    expect(bundles.map((d) => d.digest)).toEqual([signature.manifestDigest]);
  });

  it('answers a missing manifest with MANIFEST_UNKNOWN', async () => {
    await expect(client.getManifest('shop/cart', 'no-such-tag')).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
  });
});
