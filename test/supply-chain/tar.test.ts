import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  artifactOf,
  jsonBlob,
  layerFromEntries,
  listImageFiles,
} from '../../src/supply-chain/image/index.ts';
import { readTar } from '../../src/supply-chain/image/tar-reader.ts';
import { writeTar, type TarEntry } from '../../src/supply-chain/image/tar.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';

const longName = `${`${'d'.repeat(60)}/`.repeat(5)}${'f'.repeat(120)}.txt`;
const entries: TarEntry[] = [
  { type: 'file', path: 'ünïcode/naïve.txt', mode: 0o644, content: Buffer.from('unicode') },
  { type: 'file', path: longName, mode: 0o755, content: Buffer.from('long') },
  { type: 'symlink', path: 'link', target: `/${'t'.repeat(150)}` },
  { type: 'directory', path: 'ünïcode', mode: 0o755 },
];

describe('writeTar', () => {
  it('writes pax headers for names ustar cannot hold, and GNU tar extracts them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'changeproof-tar-'));
    try {
      await writeFile(join(dir, 'layer.tar'), writeTar(entries, 0));
      execFileSync('tar', ['-xf', 'layer.tar'], { cwd: dir });

      expect(await readFile(join(dir, 'ünïcode/naïve.txt'), 'utf8')).toBe('unicode');
      expect(await readFile(join(dir, longName), 'utf8')).toBe('long');
      const listing = execFileSync('tar', ['-tvf', 'layer.tar'], { cwd: dir, encoding: 'utf8' });
      expect(listing).toContain(`link -> /${'t'.repeat(150)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads back what it wrote, sorted by path', () => {
    const read = readTar(writeTar(entries, 0));
    expect(read.map((entry) => entry.path)).toEqual([
      longName,
      'link',
      'ünïcode',
      'ünïcode/naïve.txt',
    ]);
    expect(read[1]).toMatchObject({ type: 'symlink', linkTarget: `/${'t'.repeat(150)}` });
    expect(read[0]).toMatchObject({ type: 'file', mode: 0o755, content: Buffer.from('long') });
  });

  it('refuses entries whose path climbs out of the root', () => {
    const escaping: TarEntry = {
      type: 'file',
      path: 'app/../../etc/passwd',
      mode: 0o644,
      content: Buffer.alloc(0),
    };
    expect(() => layerFromEntries([escaping])).toThrow(
      expect.objectContaining({ code: 'PATH_ESCAPE' }),
    );
  });
});

describe('listImageFiles', () => {
  it('applies layers in order and honours whiteouts', () => {
    const file = (path: string, text: string): TarEntry => ({
      type: 'file',
      path,
      mode: 0o644,
      content: Buffer.from(text),
    });
    const lower = layerFromEntries([
      file('app/a.txt', 'a'),
      file('app/b.txt', 'b'),
      file('cache/x', 'x'),
    ]);
    const upper = layerFromEntries([
      file('app/a.txt', 'a2'),
      file('app/.wh.b.txt', ''),
      file('cache/.wh..wh..opq', ''),
    ]);
    const config = jsonBlob(MediaType.imageConfig, {});
    const image = artifactOf(
      {
        schemaVersion: 2,
        mediaType: MediaType.imageManifest,
        config: config.descriptor,
        layers: [lower.blob.descriptor, upper.blob.descriptor],
      },
      [config, lower.blob, upper.blob],
    );

    const files = listImageFiles(image);
    expect(files.map((f) => [f.path, f.content.toString()])).toEqual([['/app/a.txt', 'a2']]);
  });
});
