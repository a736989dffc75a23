import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createAttestations,
  CycloneDxPredicateType,
  provenancePredicate,
  sbomPredicate,
  scanPredicate,
  SlsaProvenanceV1,
  verifyAttestations,
  VulnPredicateType,
} from '../../src/supply-chain/attest/index.ts';
import { signEnvelope } from '../../src/supply-chain/dsse.ts';
import { buildImage, bytesBlob } from '../../src/supply-chain/image/index.ts';
import {
  MediaType,
  type ImageManifest,
  type OciArtifact,
} from '../../src/supply-chain/oci/types.ts';
import { generateSbom } from '../../src/supply-chain/sbom/index.ts';
import { loadAdvisories, runScanGate } from '../../src/supply-chain/scan/index.ts';
import { cosignLayersArtifact } from '../../src/supply-chain/sign/classic.ts';
import { fixturesDir, repoRoot } from './helpers/paths.ts';
import { fakeImage } from './helpers/images.ts';
import { createTestSigner } from './helpers/test-signer.ts';

const signer = createTestSigner();
const commit = 'c'.repeat(40);
const repository = 'registry.test:5000/shop/checkout';

async function deliverAttestations() {
  const built = await buildImage({
    contextDir: join(fixturesDir, 'npm-app'),
    tag: commit,
    source: { repository: 'https://git.test/shop/checkout', commit },
  });
  const image = { repository, digest: built.digest };
  const sbom = generateSbom({ image: built.artifact, imageName: repository });
  const advisories = await loadAdvisories(join(repoRoot, 'fixtures', 'advisories'));
  const scan = runScanGate({
    sbom: sbom.bom,
    advisories,
    now: new Date('2025-06-01T00:00:00Z'),
    policy: 'warn',
  });
  const times = {
    startedOn: new Date('2025-06-01T10:00:00Z'),
    finishedOn: new Date('2025-06-01T10:02:00Z'),
  };

  const provenance = provenancePredicate({
    builderId: 'https://changeproof.dev/builders/local@v1',
    source: { repository: 'https://git.test/shop/checkout', commit, ref: 'refs/heads/main' },
    service: 'checkout',
    environment: 'staging',
    invocationId: 'run-42',
    byproducts: [{ name: 'sbom.cdx.json', digest: sbom.digest }],
    ...times,
  });
  const vuln = scanPredicate({
    result: scan,
    invocationId: 'run-42',
    builderId: 'https://changeproof.dev/builders/local@v1',
    advisoryDatabase: { uri: 'file:fixtures/advisories', version: '2025-01-15' },
    ...times,
  });
  const att = await createAttestations(
    image,
    [
      { predicateType: SlsaProvenanceV1, predicate: provenance },
      { predicateType: CycloneDxPredicateType, predicate: sbomPredicate(sbom.bom) },
      { predicateType: VulnPredicateType, predicate: vuln },
    ],
    signer,
  );
  return { image, att, scan };
}

function layersOf(artifact: OciArtifact) {
  return (artifact.manifest as ImageManifest).layers;
}

describe('createAttestations', () => {
  it('writes one DSSE layer per attestation under sha256-<hex>.att, annotated as cosign does', async () => {
    const { image, att } = await deliverAttestations();

    expect(att.tag).toBe(`sha256-${image.digest.slice(7)}.att`);
    expect(layersOf(att.artifact).map((l) => [l.mediaType, l.annotations])).toEqual(
      [SlsaProvenanceV1, CycloneDxPredicateType, VulnPredicateType].map((predicateType) => [
        'application/vnd.dsse.envelope.v1+json',
        { 'dev.cosignproject.cosign/signature': '', predicateType },
      ]),
    );
  });

  it('records the builder, the source commit as gitCommit and the run times in the provenance', async () => {
    const { image, att, scan } = await deliverAttestations();
    const checks = verifyAttestations(att.artifact, image.digest, signer.publicKeyPem);
    const statementOf = (type: string) =>
      checks.find((c) => c.predicateType === type && c.verified);

    const provenance = statementOf(SlsaProvenanceV1);
    expect(provenance?.verified && provenance.statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: repository, digest: { sha256: image.digest.slice(7) } }],
      predicate: {
        buildDefinition: {
          externalParameters: { source: { repository: 'https://git.test/shop/checkout', commit } },
          resolvedDependencies: [
            {
              uri: 'git+https://git.test/shop/checkout@refs/heads/main',
              digest: { gitCommit: commit },
            },
          ],
        },
        runDetails: {
          builder: { id: 'https://changeproof.dev/builders/local@v1' },
          metadata: {
            invocationId: 'run-42',
            startedOn: '2025-06-01T10:00:00.000Z',
            finishedOn: '2025-06-01T10:02:00.000Z',
          },
        },
      },
    });
    const vuln = statementOf(VulnPredicateType);
    expect(vuln?.verified && vuln.statement.predicate).toMatchObject({
      scanner: { result: { verdict: scan.verdict, counts: scan.counts } },
    });
    const sbom = statementOf(CycloneDxPredicateType);
    expect(sbom?.verified && sbom.statement.predicate).toMatchObject({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
    });
  });

  it('appends to an existing .att artifact', async () => {
    const { image } = fakeImage();
    const first = await createAttestations(
      image,
      [{ predicateType: 'https://example.test/a', predicate: {} }],
      signer,
    );
    const second = await createAttestations(
      image,
      [{ predicateType: 'https://example.test/b', predicate: {} }],
      signer,
      first.artifact,
    );
    expect(layersOf(second.artifact).map((l) => l.annotations?.predicateType)).toEqual([
      'https://example.test/a',
      'https://example.test/b',
    ]);
    expect(
      verifyAttestations(second.artifact, image.digest, signer.publicKeyPem).every(
        (c) => c.verified,
      ),
    ).toBe(true);
  });
});

describe('verifyAttestations', () => {
  it('accepts every attestation with the signing key and rejects them with another', async () => {
    const { image, att } = await deliverAttestations();
    expect(
      verifyAttestations(att.artifact, image.digest, signer.publicKeyPem).map((c) => c.verified),
    ).toEqual([true, true, true]);

    const wrongKey = verifyAttestations(
      att.artifact,
      image.digest,
      createTestSigner().publicKeyPem,
    );
    expect(wrongKey.every((c) => !c.verified && /wrong key/.test(c.reason))).toBe(true);
  });

  it('rejects attestations about another image', async () => {
    const { att } = await deliverAttestations();
    const [check] = verifyAttestations(
      att.artifact,
      fakeImage('other').image.digest,
      signer.publicKeyPem,
    );
    expect(check).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/no subject of the statement has digest/),
    });
  });

  it('accepts cosign in-toto v0.1 statements and refuses other payload types', async () => {
    const { image } = fakeImage();
    const v01 = {
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: image.repository, digest: { sha256: image.digest.slice(7) } }],
      predicateType: 'https://example.test/x',
      predicate: {},
    };
    const good = await signEnvelope(
      'application/vnd.in-toto+json',
      Buffer.from(JSON.stringify(v01)),
      signer,
    );
    const wrongType = await signEnvelope('text/plain', Buffer.from(JSON.stringify(v01)), signer);
    const layer = (envelope: object) =>
      bytesBlob(MediaType.dsseEnvelope, Buffer.from(JSON.stringify(envelope)), {
        'dev.cosignproject.cosign/signature': '',
        predicateType: 'https://example.test/x',
      });
    const first = cosignLayersArtifact([], layer(good));
    const both = cosignLayersArtifact(layersOf(first), layer(wrongType), first);

    const checks = verifyAttestations(both, image.digest, signer.publicKeyPem);
    expect(checks[0]).toMatchObject({ verified: true, predicateType: 'https://example.test/x' });
    expect(checks[1]).toMatchObject({
      verified: false,
      reason: 'payload type text/plain is not application/vnd.in-toto+json',
    });
  });
});
