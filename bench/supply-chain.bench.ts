import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createAttestations,
  CycloneDxPredicateType,
  VulnPredicateType,
} from '../src/supply-chain/attest/index.ts';
import { buildImage } from '../src/supply-chain/image/index.ts';
import { generateSbom } from '../src/supply-chain/sbom/index.ts';
import { loadAdvisories, runScanGate } from '../src/supply-chain/scan/index.ts';
import {
  bundleReferrer,
  createClassicSignature,
  createImageBundle,
} from '../src/supply-chain/sign/index.ts';
import type { Signer } from '../src/supply-chain/signer.ts';
import { median, type Benchmark } from './harness.ts';

const runs = 5;

/** A 20 MB context: 200 files of 100 KB, half random (incompressible) and half text. */
async function writeContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'changeproof-bench-'));
  for (let index = 0; index < 200; index += 1) {
    await mkdir(join(dir, `dir-${index % 10}`), { recursive: true });
    const content =
      index % 2
        ? randomBytes(100_000)
        : Buffer.from(`line ${index}\n`.repeat(12_500)).subarray(0, 100_000);
    await writeFile(join(dir, `dir-${index % 10}`, `file-${index}.bin`), content);
  }
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { 'node_modules/minimist': { version: '1.2.6' } },
    }),
  );
  return dir;
}

function benchSigner(): Signer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    keyId: createHash('sha256').update(spki).digest('base64'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: async (data) => sign('sha256', data, privateKey),
  };
}

async function time(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'supply-chain: build and post-build steps for a 20 MB image',
    async run() {
      const dir = await writeContext();
      try {
        const commit = 'd'.repeat(40);
        const build = () =>
          buildImage({
            contextDir: dir,
            tag: commit,
            source: { repository: 'https://git.test/x', commit },
          });
        const buildTimes: number[] = [];
        const tarTimes: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          buildTimes.push(await time(build));
          tarTimes.push(
            await time(async () =>
              execFileSync('tar', [
                '-czf',
                join(tmpdir(), `changeproof-bench-${process.pid}.tgz`),
                '-C',
                dir,
                '.',
              ]),
            ),
          );
        }

        const image = await build();
        const advisories = await loadAdvisories(
          join(import.meta.dirname, '..', 'fixtures', 'advisories'),
        );
        const signer = benchSigner();
        const ref = { repository: 'registry.test/x', digest: image.digest };
        const overheadTimes: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          overheadTimes.push(
            await time(async () => {
              const sbom = generateSbom({ image: image.artifact, imageName: ref.repository });
              const scan = runScanGate({ sbom: sbom.bom, advisories, now: new Date() });
              await createClassicSignature({ image: ref, signer });
              bundleReferrer({
                bundle: await createImageBundle(ref, signer),
                subject: {
                  mediaType: image.artifact.manifest.mediaType,
                  digest: image.digest,
                  size: image.artifact.manifestBytes.length,
                },
              });
              await createAttestations(
                ref,
                [
                  { predicateType: CycloneDxPredicateType, predicate: sbom.bom },
                  { predicateType: VulnPredicateType, predicate: scan.counts },
                ],
                signer,
              );
            }),
          );
        }

        const buildMedian = median(buildTimes);
        const tarMedian = median(tarTimes);
        return [
          {
            name: 'image build, 20 MB context (median)',
            value: buildMedian,
            unit: 'ms',
            peer: { name: 'GNU tar -czf of the same directory', value: tarMedian, unit: 'ms' },
            ratio: tarMedian / buildMedian,
          },
          {
            name: 'SBOM + scan + sign + bundle + attest, 20 MB image (median)',
            value: median(overheadTimes),
            unit: 'ms',
            target: { value: 1500, better: 'lower' },
          },
        ];
      } finally {
        await rm(dir, { recursive: true, force: true });
        await rm(join(tmpdir(), `changeproof-bench-${process.pid}.tgz`), { force: true });
      }
    },
  },
];
