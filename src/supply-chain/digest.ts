import { createHash } from 'node:crypto';

const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** `sha256:<hex>` over the exact bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}
