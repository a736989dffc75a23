import { InTotoPayloadType, statementAbout, type InTotoStatement } from '../attest/statement.ts';
import { verifyEnvelope } from '../dsse.ts';
import { MediaType } from '../oci/types.ts';
import type { SigstoreBundle } from './bundle.ts';
import { keyIdOf, type Verification } from './keys.ts';

/**
 * Checks a key-based Sigstore bundle for an image: v0.3 media type, a DSSE envelope signed by
 * the key (its hint must be the key's id), an in-toto payload, and a subject digest equal to
 * `imageDigest`. `predicateType`, when given, must match too.
 */
export function verifyBundle(
  bundle: unknown,
  imageDigest: string,
  publicKeyPem: string,
  predicateType?: string,
): Verification<{ statement: InTotoStatement }> {
  const candidate = bundle as Partial<SigstoreBundle> | undefined;
  if (candidate?.mediaType !== MediaType.sigstoreBundle) {
    return {
      verified: false,
      reason: `bundle media type ${String(candidate?.mediaType)} is not v0.3`,
    };
  }
  const envelope = candidate.dsseEnvelope;
  if (!envelope || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    return { verified: false, reason: 'bundle has no DSSE envelope' };
  }

  const keyId = keyIdOf(publicKeyPem);
  const hint = candidate.verificationMaterial?.publicKey?.hint;
  if (hint !== undefined && hint !== keyId) {
    return { verified: false, reason: `bundle names key ${hint}, not ${keyId} (wrong key)` };
  }
  if (!safeVerify(envelope, publicKeyPem)) {
    return {
      verified: false,
      reason: 'bundle signature does not verify with the given public key (wrong key or tampered)',
    };
  }
  if (envelope.payloadType !== InTotoPayloadType) {
    return {
      verified: false,
      reason: `payload type ${envelope.payloadType} is not ${InTotoPayloadType}`,
    };
  }

  const { statement, reason } = statementAbout(
    Buffer.from(envelope.payload, 'base64'),
    imageDigest,
  );
  if (!statement || reason) return { verified: false, reason: reason ?? 'no statement' };
  if (predicateType && statement.predicateType !== predicateType) {
    return {
      verified: false,
      reason: `predicate type ${statement.predicateType} is not ${predicateType}`,
    };
  }
  return { verified: true, statement };
}

function safeVerify(envelope: SigstoreBundle['dsseEnvelope'], publicKeyPem: string): boolean {
  try {
    return verifyEnvelope(envelope, publicKeyPem);
  } catch {
    return false;
  }
}
