import { createHash, createPublicKey, verify } from 'node:crypto';

/** base64 (standard) of sha256 over the SPKI DER: cosign's and Sigstore's public key hint. */
export function keyIdOf(publicKeyPem: string): string {
  const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Verifies a DER ECDSA signature over sha256 of `data`; false (not a throw) for junk input. */
export function verifyDerSignature(
  data: Uint8Array,
  signature: Uint8Array,
  publicKeyPem: string,
): boolean {
  try {
    return verify('sha256', data, createPublicKey(publicKeyPem), signature);
  } catch {
    return false;
  }
}

/** The outcome of checking a signature or attestation: verified, or the reason it is not. */
export type Verification<Detail = object> =
  ({ verified: true } & Detail) | { verified: false; reason: string };
