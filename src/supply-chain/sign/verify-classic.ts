import { sha256Digest } from '../digest.ts';
import { findBlob } from '../image/artifact.ts';
import { MediaType, type ImageManifest, type OciArtifact } from '../oci/types.ts';
import { SignatureAnnotation } from './classic.ts';
import { verifyDerSignature, type Verification } from './keys.ts';
import { SimpleSigningType, type SimpleSigningPayload } from './simple-signing.ts';

/**
 * Checks a `.sig` artifact the way `cosign verify --key --insecure-ignore-tlog` does: at least one
 * simple-signing layer whose bytes match their digest, whose payload names `imageDigest`, and
 * whose signature verifies with the key. On failure the reason of the last layer tried is given.
 */
export function verifyClassicSignature(
  signatureArtifact: OciArtifact,
  imageDigest: string,
  publicKeyPem: string,
): Verification<{ payload: SimpleSigningPayload }> {
  const manifest = signatureArtifact.manifest as ImageManifest;
  const layers = (manifest.layers ?? []).filter(
    (layer) => layer.mediaType === MediaType.cosignSimpleSigning,
  );
  if (layers.length === 0)
    return { verified: false, reason: 'no simple-signing layer in the signature manifest' };

  let reason = '';
  for (const layer of layers) {
    const blob = findBlob(signatureArtifact, layer.digest);
    if (!blob) {
      reason = `signature payload ${layer.digest} is missing`;
      continue;
    }
    if (sha256Digest(blob.bytes) !== layer.digest) {
      reason = `signature payload does not match its digest ${layer.digest} (tampered)`;
      continue;
    }
    const payload = parsePayload(blob.bytes);
    if (!payload) {
      reason = 'signature payload is not a cosign simple-signing payload';
      continue;
    }
    const signed = payload.critical.image['docker-manifest-digest'];
    if (signed !== imageDigest) {
      reason = `signature is for ${signed}, not ${imageDigest} (payload digest mismatch)`;
      continue;
    }
    const signature = Buffer.from(layer.annotations?.[SignatureAnnotation] ?? '', 'base64');
    if (!verifyDerSignature(blob.bytes, signature, publicKeyPem)) {
      reason =
        'signature does not verify with the given public key (wrong key or tampered payload)';
      continue;
    }
    return { verified: true, payload };
  }
  return { verified: false, reason };
}

function parsePayload(bytes: Uint8Array): SimpleSigningPayload | undefined {
  try {
    const payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as SimpleSigningPayload;
    return payload?.critical?.type === SimpleSigningType && payload.critical.image
      ? payload
      : undefined;
  } catch {
    return undefined;
  }
}
