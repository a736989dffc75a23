import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import { buildImage, findBlob, writeOciLayout } from '../../src/supply-chain/image/index.ts';
import type { ImageManifest } from '../../src/supply-chain/oci/types.ts';

const commit = 'a'.repeat(40);
const source = { repository: 'https://git.example.test/shop/checkout', commit };
const temporary: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'changeproof-image-'));
  temporary.push(dir);
  return dir;
}

/** Writes the same tree with different mtimes, permissions and creation order. */
async function writeContext(variant: 'a' | 'b'): Promise<string> {
  const dir = await tempDir();
  const files = ['server.js', 'package.json', 'lib/util.js', `deep/${'x'.repeat(120)}/file.txt`];
  for (const file of variant === 'a' ? files : [...files].reverse()) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), `content of ${file}\n`);
  }
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, '.git'));
  await writeFile(join(dir, '.git', 'HEAD'), `ref: ${variant}\n`);
  await symlink('lib/util.js', join(dir, 'util-link.js'));
  await writeFile(join(dir, 'start.sh'), '#!/bin/sh\nexec node server.js\n');
  await chmod(join(dir, 'start.sh'), variant === 'a' ? 0o755 : 0o700);
  await chmod(join(dir, 'server.js'), variant === 'a' ? 0o644 : 0o600);
  const when = variant === 'a' ? new Date('2001-02-03T04:05:06Z') : new Date();
  await utimes(join(dir, 'server.js'), when, when);
  return dir;
}

function build(contextDir: string, overrides: Partial<Parameters<typeof buildImage>[0]> = {}) {
  return buildImage({
    contextDir,
    tag: commit,
    source,
    entrypoint: ['/app/start.sh'],
    cmd: ['--port', '8080'],
    env: { NODE_ENV: 'production' },
    workingDir: '/app',
    ...overrides,
  });
}

afterEach(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('buildImage', () => {
  it('gives the same digest for the same tree built in different directories at different times', async () => {
    const first = await build(await writeContext('a'));
    const second = await build(await writeContext('b'));

    expect(second.digest).toBe(first.digest);
    expect(Buffer.from(second.artifact.manifestBytes)).toEqual(
      Buffer.from(first.artifact.manifestBytes),
    );
  });

  it('changes the digest when a file changes', async () => {
    const dir = await writeContext('a');
    const before = await build(dir);
    await writeFile(join(dir, 'server.js'), 'changed\n');

    expect((await build(dir)).digest).not.toBe(before.digest);
  });

  it('writes a config with runtime settings, source labels and the diff id of the layer', async () => {
    const image = await build(await writeContext('a'));
    const manifest = image.artifact.manifest as ImageManifest;
    const layer = findBlob(image.artifact, manifest.layers[0]!.digest)!;

    expect(image.config).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Entrypoint: ['/app/start.sh'],
        Cmd: ['--port', '8080'],
        Env: ['NODE_ENV=production'],
        WorkingDir: '/app',
        Labels: {
          'org.opencontainers.image.source': source.repository,
          'org.opencontainers.image.revision': commit,
        },
      },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(gunzipSync(layer.bytes))] },
    });
    expect(image.config.history).toHaveLength(1);
    expect(layer.bytes.subarray(0, 10)).toEqual(
      Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
    );
  });

  it('writes a layer that GNU tar reads with root ownership, fixed mtime and normalised modes', async () => {
    const image = await build(await writeContext('b'));
    const dir = await tempDir();
    const layer = findBlob(
      image.artifact,
      (image.artifact.manifest as ImageManifest).layers[0]!.digest,
    )!;
    await writeFile(join(dir, 'layer.tar.gz'), layer.bytes);

    const listing = execFileSync('tar', ['--numeric-owner', '-tvzf', join(dir, 'layer.tar.gz')], {
      encoding: 'utf8',
    });
    const lines = listing.trim().split('\n');
    expect(lines.every((line) => / 0\/0 /.test(line) && line.includes('1970-01-01'))).toBe(true);
    expect(listing).toMatch(/^-rwxr-xr-x .* app\/start\.sh$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* app\/server\.js$/m);
    expect(listing).toMatch(/^drwxr-xr-x .* app\/empty\/$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* app\/util-link\.js -> lib\/util\.js$/m);
    expect(listing).toContain(`app/deep/${'x'.repeat(120)}/file.txt`);
    expect(listing).not.toContain('.git');

    const names = lines.map((line) => line.split(/\s+/).slice(5).join(' '));
    expect(names).toEqual([...names].sort());
  });

  it('produces an image layout that skopeo inspects with the same digest and config', async () => {
    const image = await build(await writeContext('a'));
    const layout = await tempDir();
    await writeOciLayout(layout, image.artifact, image.tag);

    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${layout}:${image.tag}`], { encoding: 'utf8' }),
    ) as { Digest: string; Labels: Record<string, string>; Layers: string[] };
    expect(inspected.Digest).toBe(image.digest);
    expect(inspected.Labels['org.opencontainers.image.revision']).toBe(commit);

    // skopeo copy re-reads every blob and checks its digest.
    execFileSync('skopeo', ['copy', `oci:${layout}:${image.tag}`, `dir:${join(layout, 'copy')}`]);
  });

  it('stacks the layer on a pulled base image and inherits its settings', async () => {
    const baseDir = await tempDir();
    await writeFile(join(baseDir, 'node'), 'binary');
    const base = await buildImage({
      contextDir: baseDir,
      destination: '/usr/local/bin',
      tag: 'base-1',
      env: { PATH: '/usr/local/bin', NODE_ENV: 'development' },
      cmd: ['node'],
      architecture: 'arm64',
    });
    const pulled: string[] = [];
    const pull = async (reference: string) => {
      pulled.push(reference);
      return base.artifact;
    };

    const image = await build(await writeContext('a'), {
      base: { reference: 'registry.test/node:20', pull },
    });
    const manifest = image.artifact.manifest as ImageManifest;

    expect(pulled).toEqual(['registry.test/node:20']);
    expect(manifest.layers[0]).toEqual((base.artifact.manifest as ImageManifest).layers[0]);
    expect(image.config.rootfs.diff_ids).toHaveLength(2);
    expect(image.config.architecture).toBe('arm64');
    expect(image.config.config?.Env).toEqual(['PATH=/usr/local/bin', 'NODE_ENV=production']);
    expect(image.config.history).toHaveLength(2);
    expect(manifest.annotations?.['org.opencontainers.image.base.digest']).toBe(base.digest);
  });
});

describe('buildImage refusals', () => {
  it('refuses the latest tag', async () => {
    await expect(
      build(await writeContext('a'), { tag: 'latest', source: undefined }),
    ).rejects.toMatchObject({
      code: 'MUTABLE_TAG',
    });
  });

  it('refuses a tag other than the full source commit', async () => {
    const dir = await writeContext('a');
    await expect(build(dir, { tag: 'v1.2.3' })).rejects.toMatchObject({ code: 'MUTABLE_TAG' });
    await expect(build(dir, { tag: commit.slice(0, 12) })).rejects.toMatchObject({
      code: 'MUTABLE_TAG',
    });
  });

  it('refuses a destination that climbs out of the image root', async () => {
    const dir = await writeContext('a');
    await expect(build(dir, { destination: '/app/../../etc' })).rejects.toMatchObject({
      code: 'PATH_ESCAPE',
    });
  });

  it('refuses a symlink that points outside the build directory', async () => {
    const dir = await writeContext('a');
    await symlink('../../etc/passwd', join(dir, 'lib', 'passwd'));
    await expect(build(dir)).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
  });

  it('refuses a base image that is an index', async () => {
    const dir = await writeContext('a');
    const index = {
      schemaVersion: 2 as const,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [],
    };
    const pull = async () => ({
      manifest: index,
      manifestBytes: new Uint8Array(),
      manifestDigest: '',
      blobs: [],
    });
    await expect(build(dir, { base: { reference: 'x', pull } })).rejects.toMatchObject({
      code: 'BASE_UNSUPPORTED',
    });
  });
});
