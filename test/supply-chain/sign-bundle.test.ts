import { createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import type { ImageIndex, ImageManifest } from '../../src/supply-chain/oci/types.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import {
  bundleReferrer,
  createImageBundle,
  keyIdOf,
  referrersFallbackIndex,
  verifyBundle,
  type SigstoreBundle,
} from '../../src/supply-chain/sign/index.ts';
import { fakeImage } from './helpers/images.ts';
import { createTestSigner } from './helpers/test-signer.ts';

const signer = createTestSigner();
const { image, descriptor } = fakeImage();

/** Offline, key-only verification with sigstore-js: no log, no CT, no timestamps. */
function sigstoreVerify(bundle: SigstoreBundle, trusted: Signer): void {
  const trustMaterial: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey(hint: string) {
      if (hint !== trusted.keyId) throw new Error(`unknown key ${hint}`);
      return { publicKey: createPublicKey(trusted.publicKeyPem), validFor: () => true };
    },
  };
  const verifier = new Verifier(trustMaterial, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(JSON.stringify(bundle)))));
}

describe('createImageBundle', () => {
  it('is accepted by @sigstore/verify with the signing key', async () => {
    const bundle = await createImageBundle(image, signer);
    expect(() => sigstoreVerify(bundle, signer)).not.toThrow();
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.publicKey.hint).toBe(signer.keyId);
    expect(bundle.dsseEnvelope.signatures[0]?.keyid).toBe(signer.keyId);
    expect(keyIdOf(signer.publicKeyPem)).toBe(signer.keyId);
  });

  it('is rejected by @sigstore/verify when signed by another key', async () => {
    const other = createTestSigner();
    const bundle = await createImageBundle(image, other);
    expect(() => sigstoreVerify(bundle, signer)).toThrow();

    // Even claiming the trusted key's hint does not help: the signature itself fails.
    const forged = {
      ...bundle,
      verificationMaterial: { ...bundle.verificationMaterial, publicKey: { hint: signer.keyId } },
    };
    expect(() => sigstoreVerify(forged, signer)).toThrow(/signature/);
  });

  it('signs an in-toto v1 statement about the image with the cosign sign predicate', async () => {
    const bundle = await createImageBundle(image, signer);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: image.repository, digest: { sha256: image.digest.slice(7) } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    });
  });
});

describe('verifyBundle', () => {
  it('accepts the bundle for its image and key', async () => {
    const bundle = await createImageBundle(image, signer);
    expect(
      verifyBundle(
        bundle,
        image.digest,
        signer.publicKeyPem,
        'https://sigstore.dev/cosign/sign/v1',
      ),
    ).toMatchObject({ verified: true });
  });

  it('gives the reason for a wrong key, another image and a tampered payload', async () => {
    const bundle = await createImageBundle(image, signer);
    const other = createTestSigner();
    const reason = (result: ReturnType<typeof verifyBundle>) =>
      result.verified ? 'verified' : result.reason;

    expect(reason(verifyBundle(bundle, image.digest, other.publicKeyPem))).toMatch(/wrong key/);
    expect(
      reason(verifyBundle(bundle, fakeImage('other').image.digest, signer.publicKeyPem)),
    ).toMatch(/no subject of the statement has digest/);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].name = 'registry.test/evil';
    const tampered = {
      ...bundle,
      dsseEnvelope: {
        ...bundle.dsseEnvelope,
        payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      },
    };
    expect(reason(verifyBundle(tampered, image.digest, signer.publicKeyPem))).toMatch(/tampered/);
    expect(reason(verifyBundle({ mediaType: 'x' }, image.digest, signer.publicKeyPem))).toMatch(
      /not v0.3/,
    );
  });
});

describe('bundleReferrer', () => {
  it('is an OCI 1.1 referrer with the empty config, the bundle layer and the image as subject', async () => {
    const bundle = await createImageBundle(image, signer);
    const referrer = bundleReferrer({
      bundle,
      subject: descriptor,
      created: '2025-01-01T00:00:00Z',
    });
    const manifest = referrer.manifest as ImageManifest;

    expect(manifest.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
    });
    expect(
      referrer.blobs.find((b) => b.descriptor.digest === manifest.config.digest)?.bytes,
    ).toEqual(Buffer.from('{}'));
    expect(manifest.subject).toEqual(descriptor);
    expect(manifest.annotations).toEqual({
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
      'org.opencontainers.image.created': '2025-01-01T00:00:00Z',
    });
    const layer = referrer.blobs.find((b) => b.descriptor.digest === manifest.layers[0]!.digest)!;
    expect(JSON.parse(Buffer.from(layer.bytes).toString())).toEqual(bundle);
  });

  it('is listed in the sha256-<hex> fallback index, which grows without duplicates', async () => {
    const first = bundleReferrer({
      bundle: await createImageBundle(image, signer),
      subject: descriptor,
    });
    const second = bundleReferrer({
      bundle: await createImageBundle(image, signer),
      subject: descriptor,
    });

    const index = referrersFallbackIndex(image.digest, first);
    const grown = referrersFallbackIndex(image.digest, second, index.artifact);
    const again = referrersFallbackIndex(image.digest, second, grown.artifact);

    expect(index.tag).toBe(`sha256-${image.digest.slice(7)}`);
    const manifests = (grown.artifact.manifest as ImageIndex).manifests;
    expect(manifests.map((m) => m.digest)).toEqual([first.manifestDigest, second.manifestDigest]);
    expect(manifests[0]).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect((again.artifact.manifest as ImageIndex).manifests).toHaveLength(2);
  });
});
