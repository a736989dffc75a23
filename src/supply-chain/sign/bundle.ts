import { imageStatement, InTotoPayloadType, type ImageRef } from '../attest/statement.ts';
import type { DsseEnvelope } from '../dsse.ts';
import { signEnvelope } from '../dsse.ts';
import { MediaType } from '../oci/types.ts';
import type { Signer } from '../signer.ts';

/** What cosign v3 signs for an image: an in-toto statement with an empty predicate. */
export const CosignSignPredicateType = 'https://sigstore.dev/cosign/sign/v1';

/** A Sigstore bundle v0.3 (JSON form) with a DSSE envelope and a public-key hint. */
export interface SigstoreBundle {
  mediaType: typeof MediaType.sigstoreBundle;
  verificationMaterial: {
    publicKey: { hint: string };
    tlogEntries: unknown[];
    timestampVerificationData: { rfc3161Timestamps: unknown[] };
  };
  dsseEnvelope: DsseEnvelope;
}

/**
 * Signs an image as a Sigstore bundle v0.3, key-based and offline: no transparency log entry and
 * no timestamp, so verifiers must be told to accept zero of each.
 */
export async function createImageBundle(image: ImageRef, signer: Signer): Promise<SigstoreBundle> {
  const statement = imageStatement(image, CosignSignPredicateType, {});
  return bundleOfStatement(Buffer.from(JSON.stringify(statement)), signer);
}

/** Wraps signed in-toto statement bytes into a bundle whose hint is the signer's key id. */
export async function bundleOfStatement(
  statement: Uint8Array,
  signer: Signer,
): Promise<SigstoreBundle> {
  const envelope = await signEnvelope(InTotoPayloadType, statement, signer);
  return {
    mediaType: MediaType.sigstoreBundle,
    verificationMaterial: {
      publicKey: { hint: signer.keyId },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  };
}
