import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import type { ImageManifest, OciArtifact } from '../../src/supply-chain/oci/types.ts';
import {
  createClassicSignature,
  simpleSigningPayload,
  verifyClassicSignature,
  verifyDerSignature,
} from '../../src/supply-chain/sign/index.ts';
import { fakeImage } from './helpers/images.ts';
import { createTestSigner } from './helpers/test-signer.ts';

const signer = createTestSigner();
const { image } = fakeImage();
const hex = image.digest.slice(7);

function layerOf(artifact: OciArtifact, index = 0) {
  const descriptor = (artifact.manifest as ImageManifest).layers[index]!;
  return {
    descriptor,
    blob: artifact.blobs.find((b) => b.descriptor.digest === descriptor.digest)!,
  };
}

describe('simpleSigningPayload', () => {
  it('writes the payload in cosign key order', () => {
    expect(
      simpleSigningPayload('registry.test/shop/checkout', `sha256:${'0'.repeat(64)}`).toString(),
    ).toBe(
      `{"critical":{"identity":{"docker-reference":"registry.test/shop/checkout"},"image":{"docker-manifest-digest":"sha256:${'0'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(
      JSON.parse(simpleSigningPayload('r/x', image.digest, { run: '42' }).toString()).optional,
    ).toEqual({ run: '42' });
  });
});

describe('createClassicSignature', () => {
  it('writes a .sig manifest with one simple-signing layer signed over the payload bytes', async () => {
    const { tag, artifact } = await createClassicSignature({ image, signer });
    const manifest = artifact.manifest as ImageManifest;
    const { descriptor, blob } = layerOf(artifact);

    expect(tag).toBe(`sha256-${hex}.sig`);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(descriptor.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(
      JSON.parse(Buffer.from(blob.bytes).toString()).critical.image['docker-manifest-digest'],
    ).toBe(image.digest);

    const signature = Buffer.from(
      descriptor.annotations!['dev.cosignproject.cosign/signature']!,
      'base64',
    );
    expect(signature[0]).toBe(0x30); // ASN.1 SEQUENCE: a DER ECDSA signature
    expect(verifyDerSignature(blob.bytes, signature, signer.publicKeyPem)).toBe(true);

    const config = JSON.parse(
      Buffer.from(
        artifact.blobs.find((b) => b.descriptor.digest === manifest.config.digest)!.bytes,
      ).toString(),
    );
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [descriptor.digest] });
    expect(artifact.manifestDigest).toBe(sha256Digest(artifact.manifestBytes));
  });

  it('appends a signature to an existing .sig manifest instead of replacing it', async () => {
    const first = await createClassicSignature({ image, signer });
    const other = createTestSigner();
    const second = await createClassicSignature({ image, signer: other, existing: first.artifact });
    const layers = (second.artifact.manifest as ImageManifest).layers;

    expect(layers).toHaveLength(2);
    expect(layers[0]).toEqual((first.artifact.manifest as ImageManifest).layers[0]);
    expect(
      verifyClassicSignature(second.artifact, image.digest, signer.publicKeyPem).verified,
    ).toBe(true);
    expect(verifyClassicSignature(second.artifact, image.digest, other.publicKeyPem).verified).toBe(
      true,
    );
  });
});

describe('verifyClassicSignature', () => {
  it('accepts the signature with the signing key', async () => {
    const { artifact } = await createClassicSignature({ image, signer });
    const result = verifyClassicSignature(artifact, image.digest, signer.publicKeyPem);
    expect(result).toMatchObject({
      verified: true,
      payload: { critical: { identity: { 'docker-reference': image.repository } } },
    });
  });

  it('rejects a signature made by another key', async () => {
    const { artifact } = await createClassicSignature({ image, signer: createTestSigner() });
    expect(verifyClassicSignature(artifact, image.digest, signer.publicKeyPem)).toEqual({
      verified: false,
      reason: 'signature does not verify with the given public key (wrong key or tampered payload)',
    });
  });

  it('rejects a signature of another image digest', async () => {
    const { artifact } = await createClassicSignature({ image, signer });
    const otherDigest = fakeImage('other').image.digest;
    const result = verifyClassicSignature(artifact, otherDigest, signer.publicKeyPem);
    expect(result.verified).toBe(false);
    expect(!result.verified && result.reason).toMatch(/payload digest mismatch/);
  });

  it('rejects a payload changed after signing', async () => {
    const { artifact } = await createClassicSignature({ image, signer });
    const { blob } = layerOf(artifact);
    const tampered = Buffer.from(
      Buffer.from(blob.bytes).toString().replace('"optional":null', '"optional":{"x":"y"}'),
    );
    const swapped = {
      ...artifact,
      blobs: artifact.blobs.map((b) => (b === blob ? { ...b, bytes: tampered } : b)),
    };

    const result = verifyClassicSignature(swapped, image.digest, signer.publicKeyPem);
    expect(!result.verified && result.reason).toMatch(/tampered/);
  });
});
