import { digestHex } from '../attest/statement.ts';

/** `sha256-<hex>.sig`: where cosign keeps classic signatures of an image. */
export function signatureTag(imageDigest: string): string {
  return `sha256-${digestHex(imageDigest)}.sig`;
}

/** `sha256-<hex>.att`: where cosign keeps classic attestations of an image. */
export function attestationTag(imageDigest: string): string {
  return `sha256-${digestHex(imageDigest)}.att`;
}

/** `sha256-<hex>`: the referrers tag schema for registries without the referrers API. */
export function referrersFallbackTag(imageDigest: string): string {
  return `sha256-${digestHex(imageDigest)}`;
}
