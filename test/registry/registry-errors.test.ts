import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { buildTestImage } from './fixtures.ts';
import { startTestRegistry } from './servers.ts';

type TestRegistry = Awaited<ReturnType<typeof startTestRegistry>>;

async function errorCodeOf(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

async function openUpload(registry: TestRegistry, repository: string): Promise<string> {
  const response = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
  });
  expect(response.status).toBe(202);
  return new URL(response.headers.get('location')!, registry.url).href;
}

describe('embedded registry refusals', () => {
  let registry: TestRegistry;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startTestRegistry({ limits: { manifestBytes: 16 * 1024 } });
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterAll(() => registry.stop());

  it('refuses an invalid repository name with NAME_INVALID', async () => {
    const response = await fetch(`${registry.url}/v2/Shop/Cart/manifests/v1`);
    expect(response.status).toBe(400);
    expect(await errorCodeOf(response)).toBe('NAME_INVALID');
  });

  it('refuses an invalid tag with TAG_INVALID', async () => {
    const response = await fetch(`${registry.url}/v2/shop/cart/manifests/-bad`, {
      method: 'PUT',
      headers: { 'Content-Type': MediaType.imageManifest },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await errorCodeOf(response)).toBe('TAG_INVALID');
  });

  it('answers unknown manifests and blobs with MANIFEST_UNKNOWN and BLOB_UNKNOWN', async () => {
    const manifest = await fetch(`${registry.url}/v2/shop/cart/manifests/nope`);
    expect(manifest.status).toBe(404);
    expect(await errorCodeOf(manifest)).toBe('MANIFEST_UNKNOWN');
    const blob = await fetch(`${registry.url}/v2/shop/cart/blobs/sha256:${'a'.repeat(64)}`);
    expect(blob.status).toBe(404);
    expect(await errorCodeOf(blob)).toBe('BLOB_UNKNOWN');
  });

  it('refuses an upload whose bytes do not match its digest and stores nothing', async () => {
    const bytes = new TextEncoder().encode('the real content');
    const claimed = sha256Digest('other content');
    const location = new URL(await openUpload(registry, 'shop/cart'));
    location.searchParams.set('digest', claimed);

    const response = await fetch(location, { method: 'PUT', body: bytes });
    expect(response.status).toBe(400);
    expect(await errorCodeOf(response)).toBe('DIGEST_INVALID');
    expect(await client.blobExists('shop/cart', claimed)).toBe(false);
    expect(await client.blobExists('shop/cart', sha256Digest(bytes))).toBe(false);
    expect(readdirSync(join(registry.dataDir, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(registry.dataDir, 'uploads'))).toEqual([]);
  });

  it('refuses a chunk that does not start where the upload ends with 416', async () => {
    const location = await openUpload(registry, 'shop/cart');
    const response = await fetch(location, {
      method: 'PATCH',
      headers: { 'Content-Range': '10-19' },
      body: 'ten bytes!',
    });
    expect(response.status).toBe(416);
    expect(await errorCodeOf(response)).toBe('BLOB_UPLOAD_INVALID');
    expect(response.headers.get('range')).toBe('0-0');
  });

  it('answers an unknown upload session with BLOB_UPLOAD_UNKNOWN', async () => {
    const response = await fetch(`${registry.url}/v2/shop/cart/blobs/uploads/no-such-id`, {
      method: 'PATCH',
      body: 'x',
    });
    expect(response.status).toBe(404);
    expect(await errorCodeOf(response)).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('refuses a manifest naming a blob that was never pushed', async () => {
    const image = buildTestImage(10);
    const response = await fetch(`${registry.url}/v2/shop/missing/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': MediaType.imageManifest },
      body: image.manifestBytes,
    });
    expect(response.status).toBe(400);
    expect(await errorCodeOf(response)).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('refuses malformed manifests with MANIFEST_INVALID', async () => {
    const put = (body: string, contentType: string = MediaType.imageManifest) =>
      fetch(`${registry.url}/v2/shop/cart/manifests/v1`, {
        method: 'PUT',
        headers: { 'Content-Type': contentType },
        body,
      });
    for (const response of [
      await put('not json'),
      await put('{"schemaVersion":1}'),
      await put(`{"schemaVersion":2,"mediaType":"${MediaType.imageIndex}","manifests":[]}`),
      await put('{"schemaVersion":2,"layers":[]}'),
      await put('{"schemaVersion":2}', 'text/plain'),
    ]) {
      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('MANIFEST_INVALID');
    }
  });

  it('refuses a manifest pushed by a digest its bytes do not have', async () => {
    const image = buildTestImage(10);
    for (const blob of image.blobs) await client.pushBlob('shop/bydigest', blob.bytes);
    const response = await fetch(
      `${registry.url}/v2/shop/bydigest/manifests/${sha256Digest('something else')}`,
      {
        method: 'PUT',
        headers: { 'Content-Type': MediaType.imageManifest },
        body: image.manifestBytes,
      },
    );
    expect(response.status).toBe(400);
    expect(await errorCodeOf(response)).toBe('DIGEST_INVALID');
  });

  it('refuses a manifest over the size limit with 413', async () => {
    const response = await fetch(`${registry.url}/v2/shop/cart/manifests/big`, {
      method: 'PUT',
      headers: { 'Content-Type': MediaType.imageManifest },
      body: 'x'.repeat(17 * 1024),
    });
    expect(response.status).toBe(413);
    expect(await errorCodeOf(response)).toBe('SIZE_INVALID');
  });

  it('serves a byte range of a blob with 206', async () => {
    const bytes = new TextEncoder().encode('0123456789');
    const { digest } = await client.pushBlob('shop/ranges', bytes);
    const response = await fetch(`${registry.url}/v2/shop/ranges/blobs/${digest}`, {
      headers: { Range: 'bytes=2-5' },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await response.text()).toBe('2345');
  });

  it('answers a method an endpoint lacks with 405', async () => {
    const response = await fetch(`${registry.url}/v2/shop/cart/tags/list`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(await errorCodeOf(response)).toBe('UNSUPPORTED');
  });
});
