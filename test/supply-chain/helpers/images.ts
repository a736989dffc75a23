import { sha256Digest } from '../../../src/supply-chain/digest.ts';
import type { ImageRef } from '../../../src/supply-chain/attest/statement.ts';
import type { Descriptor } from '../../../src/supply-chain/oci/types.ts';
import { MediaType } from '../../../src/supply-chain/oci/types.ts';

/** A stand-in image manifest: signing needs only its digest and descriptor. */
export function fakeImage(seed = 'checkout'): { image: ImageRef; descriptor: Descriptor } {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, seed }));
  const digest = sha256Digest(bytes);
  return {
    image: { repository: 'registry.test:5000/shop/checkout', digest },
    descriptor: { mediaType: MediaType.imageManifest, digest, size: bytes.length },
  };
}
