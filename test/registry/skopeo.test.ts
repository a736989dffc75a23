import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { buildTestImage, writeOciLayout } from './fixtures.ts';
import { hasBinary, startTestRegistry, temporaryDirectory, warnMissing } from './servers.ts';

warnMissing('skopeo', 'skopeo');

// Asynchronous on purpose: the registry under test answers from this same event loop.
async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('skopeo', args, { timeout: 60_000 });
  return stdout;
}

// skopeo (containers/image) is an independent implementation of the distribution protocol: if
// it can push to, pull from and inspect the embedded registry, other clients can too.
describe.skipIf(!hasBinary('skopeo'))('embedded registry with skopeo', () => {
  let registry: Awaited<ReturnType<typeof startTestRegistry>>;
  let client: RegistryClient;
  const workspace = temporaryDirectory('skopeo-');

  beforeAll(async () => {
    registry = await startTestRegistry();
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterAll(async () => {
    await registry.stop();
    workspace.remove();
  });

  it('accepts an image skopeo copies from an OCI layout, keeping its digest', async () => {
    const image = buildTestImage(50_000);
    const layout = join(workspace.path, 'source');
    writeOciLayout(layout, image, 'v1');

    await skopeo(
      'copy',
      '--dest-tls-verify=false',
      `oci:${layout}:v1`,
      `docker://${registry.host}/shop/from-skopeo:v1`,
    );

    const pulled = await client.getManifest('shop/from-skopeo', 'v1');
    expect(pulled.digest).toBe(image.manifestDigest);
    const layer = image.blobs[1]!;
    const bytes = await client.pullBlob('shop/from-skopeo', layer.descriptor.digest);
    expect(Buffer.from(bytes).equals(Buffer.from(layer.bytes))).toBe(true);
  });

  it('lets skopeo inspect an image the client pushed', async () => {
    const image = buildTestImage(1000);
    await client.pushArtifact('shop/inspected', image, 'abc123');

    const inspected = JSON.parse(
      await skopeo(
        'inspect',
        '--tls-verify=false',
        `docker://${registry.host}/shop/inspected:abc123`,
      ),
    ) as { Digest: string; Architecture: string; Os: string; Layers: string[]; RepoTags: string[] };
    expect(inspected.Digest).toBe(image.manifestDigest);
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Os).toBe('linux');
    expect(inspected.Layers).toEqual([image.blobs[1]!.descriptor.digest]);
    expect(inspected.RepoTags).toEqual(['abc123']);
  });

  it('lets skopeo copy an image back out to an OCI layout byte for byte', async () => {
    const image = buildTestImage(20_000);
    await client.pushArtifact('shop/round-trip', image, 'v2');
    const layout = join(workspace.path, 'copied');

    await skopeo(
      'copy',
      '--src-tls-verify=false',
      `docker://${registry.host}/shop/round-trip:v2`,
      `oci:${layout}:v2`,
    );

    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; mediaType: string }[];
    };
    expect(index.manifests[0]).toMatchObject({
      digest: image.manifestDigest,
      mediaType: MediaType.imageManifest,
    });
    for (const blob of image.blobs) {
      const copied = readFileSync(join(layout, 'blobs', 'sha256', blob.descriptor.digest.slice(7)));
      expect(copied.equals(Buffer.from(blob.bytes))).toBe(true);
    }
  });

  it('pages tags for skopeo list-tags and copies between repositories', async () => {
    const image = buildTestImage(300);
    for (const tag of ['a', 'b', 'c']) await client.pushArtifact('shop/listed', image, tag);
    await skopeo(
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${registry.host}/shop/listed:a`,
      `docker://${registry.host}/shop/listed-copy:a`,
    );

    const listed = JSON.parse(
      await skopeo('list-tags', '--tls-verify=false', `docker://${registry.host}/shop/listed`),
    ) as { Tags: string[] };
    expect(listed.Tags).toEqual(['a', 'b', 'c']);
    expect((await client.getManifest('shop/listed-copy', 'a')).digest).toBe(image.manifestDigest);
  });

  it('serves skopeo through the bearer token flow', async () => {
    const secured = await startTestRegistry({
      auth: { username: 'ci', password: 'pw', tokenAuth: true },
    });
    try {
      const layout = join(workspace.path, 'secured');
      const image = buildTestImage(500);
      writeOciLayout(layout, image, 'v1');
      const target = `docker://${secured.host}/shop/secured:v1`;

      await expect(
        skopeo('copy', '--dest-tls-verify=false', `oci:${layout}:v1`, target),
      ).rejects.toThrow();
      await skopeo(
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        'ci:pw',
        `oci:${layout}:v1`,
        target,
      );
      const inspected = JSON.parse(
        await skopeo('inspect', '--tls-verify=false', '--creds', 'ci:pw', target),
      ) as { Digest: string };
      expect(inspected.Digest).toBe(image.manifestDigest);
    } finally {
      await secured.stop();
    }
  });
});
