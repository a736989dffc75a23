import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../../src/embedded/registry/index.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { referrersFallbackTag } from '../../src/supply-chain/oci/referrers.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { buildReferrer, buildTestImage, subjectOf } from './fixtures.ts';
import { startTestRegistry } from './servers.ts';

describe('embedded registry through the client', () => {
  let registry: Awaited<ReturnType<typeof startTestRegistry>>;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startTestRegistry();
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterAll(() => registry.stop());

  it('answers the base endpoint', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('round-trips an image: blobs, manifest bytes, tag and digest', async () => {
    const image = buildTestImage(4096);
    const pushed = await client.pushArtifact('shop/cart', image, 'abc123');

    expect(pushed.digest).toBe(image.manifestDigest);
    const byTag = await client.getManifest('shop/cart', 'abc123');
    expect(Buffer.from(byTag.bytes).equals(Buffer.from(image.manifestBytes))).toBe(true);
    expect(byTag.mediaType).toBe(MediaType.imageManifest);
    const byDigest = await client.getManifest('shop/cart', image.manifestDigest);
    expect(byDigest.digest).toBe(image.manifestDigest);
    for (const blob of image.blobs) {
      const pulled = await client.pullBlob('shop/cart', blob.descriptor.digest);
      expect(Buffer.from(pulled).equals(Buffer.from(blob.bytes))).toBe(true);
    }
  });

  it('uploads a large blob in chunks', async () => {
    const image = buildTestImage(300_000);
    const layer = image.blobs[1]!;
    const result = await client.pushBlob('shop/chunked', layer.bytes, {
      monolithicLimit: 1024,
      chunkSize: 64 * 1024,
    });

    expect(result.digest).toBe(layer.descriptor.digest);
    expect(await client.blobExists('shop/chunked', layer.descriptor.digest)).toBe(true);
    const pulled = await client.pullBlob('shop/chunked', layer.descriptor.digest);
    expect(pulled.length).toBe(layer.bytes.length);
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const image = buildTestImage(1000);
    await client.pushArtifact('shop/source', image, 'v1');
    const layer = image.blobs[1]!;

    const response = await fetch(
      `${registry.url}/v2/shop/target/blobs/uploads/?mount=${layer.descriptor.digest}&from=shop/source`,
      { method: 'POST' },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get('docker-content-digest')).toBe(layer.descriptor.digest);
    expect(await client.blobExists('shop/target', layer.descriptor.digest)).toBe(true);
  });

  it('pages tags with n and last, following Link', async () => {
    const image = buildTestImage(10);
    const tags = ['t1', 't2', 't3', 't4', 't5'];
    for (const tag of tags) await client.pushArtifact('shop/paged', image, tag);

    const first = await fetch(`${registry.url}/v2/shop/paged/tags/list?n=2`);
    expect(((await first.json()) as { tags: string[] }).tags).toEqual(['t1', 't2']);
    expect(first.headers.get('link')).toBe('</v2/shop/paged/tags/list?n=2&last=t2>; rel="next"');
    expect(await client.listTags('shop/paged', { pageSize: 2 })).toEqual(tags);
    expect(await client.listTags('shop/never-pushed')).toEqual([]);
  });

  it('lists referrers of an image, filtered by artifact type', async () => {
    const image = buildTestImage(100);
    await client.pushArtifact('shop/signed', image, 'v1');
    const signature = buildReferrer(subjectOf(image), MediaType.sigstoreBundle, 'signature');
    const sbom = buildReferrer(subjectOf(image), 'application/vnd.cyclonedx+json', 'sbom');
    await client.pushArtifact('shop/signed', signature);
    await client.pushArtifact('shop/signed', sbom);

    const all = await client.referrers('shop/signed', image.manifestDigest);
    expect(all.map((d) => d.digest).sort()).toEqual(
      [signature.manifestDigest, sbom.manifestDigest].sort(),
    );
    const bundles = await client.referrers('shop/signed', image.manifestDigest, {
      artifactType: MediaType.sigstoreBundle,
    });
    expect(bundles).toEqual([
      expect.objectContaining({
        digest: signature.manifestDigest,
        artifactType: MediaType.sigstoreBundle,
        annotations: { 'org.example.note': 'signature' },
      }),
    ]);

    // the registry indexes referrers itself, so no fallback tag was written
    const tags = await client.listTags('shop/signed');
    expect(tags).not.toContain(referrersFallbackTag(image.manifestDigest));
  });

  it('answers the referrers API with OCI-Filters-Applied when filtering', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const response = await fetch(
      `${registry.url}/v2/shop/signed/referrers/${digest}?artifactType=x%2Fy`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(MediaType.imageIndex);
    expect(response.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(await response.json()).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.imageIndex,
      manifests: [],
    });
  });

  it('deletes a manifest by digest with its tags', async () => {
    const image = buildTestImage(20);
    await client.pushArtifact('shop/deleting', image, 'gone');
    const response = await fetch(
      `${registry.url}/v2/shop/deleting/manifests/${image.manifestDigest}`,
      { method: 'DELETE' },
    );
    expect(response.status).toBe(202);
    await expect(client.getManifest('shop/deleting', 'gone')).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
  });
});

describe('embedded registry persistence', () => {
  it('serves what was pushed after a restart on the same data directory', async () => {
    const first = await startTestRegistry();
    const image = buildTestImage(2048);
    const firstClient = new RegistryClient({ registry: first.host, insecure: true });
    await firstClient.pushArtifact('shop/durable', image, 'v1');
    await first.close();

    const second = await startRegistry({ dataDir: first.dataDir });
    try {
      const client = new RegistryClient({ registry: second.host, insecure: true });
      const pulled = await client.getManifest('shop/durable', 'v1');
      expect(pulled.digest).toBe(image.manifestDigest);
      const layer = image.blobs[1]!.descriptor.digest;
      expect((await client.pullBlob('shop/durable', layer)).length).toBe(
        image.blobs[1]!.bytes.length,
      );
      expect(await client.listTags('shop/durable')).toEqual(['v1']);
    } finally {
      await second.close();
      await first.stop();
    }
  });
});
