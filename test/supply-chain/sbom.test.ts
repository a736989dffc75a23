import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImage } from '../../src/supply-chain/image/index.ts';
import {
  generateSbom,
  npmComponents,
  parseNpmLockfile,
} from '../../src/supply-chain/sbom/index.ts';
import { fixturesDir } from './helpers/paths.ts';
import { cycloneDxValidator } from './helpers/schemas.ts';

const commit = 'b'.repeat(40);

async function buildApp(contextDir = join(fixturesDir, 'npm-app')) {
  return buildImage({
    contextDir,
    tag: commit,
    source: { repository: 'https://git.test/checkout', commit },
  });
}

describe('generateSbom', () => {
  it('writes a CycloneDX 1.6 BOM that the official schema accepts', async () => {
    const image = await buildApp();
    const sbom = generateSbom({
      image: image.artifact,
      imageName: 'registry.test/shop/checkout',
      timestamp: new Date(0),
    });

    const validate = cycloneDxValidator();
    const valid = validate(JSON.parse(sbom.bytes.toString('utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The validator is strict enough to catch a stray key, so the pass above means something.
    expect(validate({ ...sbom.bom, extra: true })).toBe(false);
    expect(sbom.bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });

  it('names the image as the container component with its digest', async () => {
    const image = await buildApp();
    const { bom } = generateSbom({
      image: image.artifact,
      imageName: 'registry.test/shop/checkout',
    });

    expect(bom.metadata.component).toMatchObject({
      type: 'container',
      name: 'registry.test/shop/checkout',
      version: image.digest,
      hashes: [{ alg: 'SHA-256', content: image.digest.slice(7) }],
      purl: `pkg:oci/checkout@sha256%3A${image.digest.slice(7)}?repository_url=registry.test/shop/checkout`,
    });
  });

  it('lists each npm package once with a purl, scoped names encoded', async () => {
    const image = await buildApp();
    const { bom } = generateSbom({ image: image.artifact, imageName: 'registry.test/checkout' });

    const purls = bom.components.filter((c) => c.type === 'library').map((c) => c.purl);
    expect(purls.sort()).toEqual([
      'pkg:npm/%40changeproof-demo/greeter@1.0.0',
      'pkg:npm/%40changeproof-demo/logger@2.3.0',
      'pkg:npm/%40changeproof-demo/templates@0.4.1',
      'pkg:npm/lodash@4.17.20',
      'pkg:npm/minimist@1.2.5',
      'pkg:npm/minimist@1.2.6',
    ]);
    const greeter = bom.components.find((c) => c.name === 'greeter');
    expect(greeter).toMatchObject({ group: '@changeproof-demo', hashes: [{ alg: 'SHA-512' }] });
    expect(npmComponents(bom)).toContainEqual({
      name: '@changeproof-demo/greeter',
      version: '1.0.0',
      purl: 'pkg:npm/%40changeproof-demo/greeter@1.0.0',
    });
    const templates = bom.components.find((c) => c.name === 'templates');
    expect(templates?.properties).toContainEqual({
      name: 'cdx:npm:package:development',
      value: 'true',
    });
  });

  it('lists every file of the image with its sha256', async () => {
    const image = await buildApp();
    const { bom } = generateSbom({ image: image.artifact, imageName: 'registry.test/checkout' });

    const files = bom.components.filter((c) => c.type === 'file').map((c) => c.name);
    expect(files).toEqual(['/app/package-lock.json', '/app/package.json', '/app/server.js']);
    const server = bom.components.find((c) => c.name === '/app/server.js');
    expect(server?.hashes?.[0]?.content).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an image whose lockfile does not parse, naming the file in one line', async () => {
    const contextDir = await mkdtemp(join(tmpdir(), 'changeproof-sbom-'));
    try {
      await copyFile(
        join(fixturesDir, 'lockfiles', 'broken-package-lock.json'),
        join(contextDir, 'package-lock.json'),
      );
      const image = await buildApp(contextDir);

      const attempt = () =>
        generateSbom({ image: image.artifact, imageName: 'registry.test/checkout' });
      expect(attempt).toThrow(expect.objectContaining({ code: 'LOCKFILE_INVALID' }));
      expect(attempt).toThrow(
        /^lockfile \/app\/package-lock\.json is not valid JSON; regenerate it with npm install$/,
      );
    } finally {
      await rm(contextDir, { recursive: true, force: true });
    }
  });
});

describe('parseNpmLockfile', () => {
  it('reads the nested dependencies of a v1 lockfile and skips local file links', () => {
    const text = readFileSync(join(fixturesDir, 'lockfiles', 'v1-package-lock.json'), 'utf8');
    const packages = parseNpmLockfile(text, 'package-lock.json');

    expect(packages.map((p) => `${p.name}@${p.version}`).sort()).toEqual([
      '@scope/pkg@2.0.0',
      'qs@6.5.2',
      'side-channel@1.0.4',
    ]);
    expect(packages.find((p) => p.name === 'side-channel')?.location).toBe(
      'node_modules/qs/node_modules/side-channel',
    );
    expect(packages.find((p) => p.name === '@scope/pkg')?.development).toBe(true);
  });

  it('refuses a lockfile without packages or dependencies', () => {
    expect(() => parseNpmLockfile('{"lockfileVersion": 3}', 'app/package-lock.json')).toThrow(
      'lockfile app/package-lock.json has neither packages nor dependencies; regenerate it with npm install',
    );
  });
});
