import { sha256Digest } from '../digest.ts';
import { verifyEnvelope, type DsseEnvelope } from '../dsse.ts';
import { findBlob } from '../image/artifact.ts';
import { MediaType, type ImageManifest, type OciArtifact } from '../oci/types.ts';
import { InTotoPayloadType, statementAbout, type InTotoStatement } from './statement.ts';

/** The result for one layer of an `.att` artifact. */
export type AttestationCheck =
  | { verified: true; predicateType: string; statement: InTotoStatement }
  | { verified: false; predicateType?: string; reason: string };

/**
 * Checks every attestation layer of a `.att` artifact: the blob matches its digest, the DSSE
 * signature verifies with the key, the payload type is in-toto, and a subject digest equals the
 * image digest. Accepts statements v1 and v0.1 (cosign's). Returns one result per layer.
 */
export function verifyAttestations(
  attArtifact: OciArtifact,
  imageDigest: string,
  publicKeyPem: string,
): AttestationCheck[] {
  const manifest = attArtifact.manifest as ImageManifest;
  return (manifest.layers ?? [])
    .filter((layer) => layer.mediaType === MediaType.dsseEnvelope)
    .map((layer) => {
      const predicateType = layer.annotations?.predicateType;
      const blob = findBlob(attArtifact, layer.digest);
      if (!blob)
        return { verified: false, predicateType, reason: `attestation ${layer.digest} is missing` };
      if (sha256Digest(blob.bytes) !== layer.digest) {
        return {
          verified: false,
          predicateType,
          reason: `attestation does not match its digest ${layer.digest} (tampered)`,
        };
      }
      return checkEnvelope(blob.bytes, imageDigest, publicKeyPem, predicateType);
    });
}

function checkEnvelope(
  bytes: Uint8Array,
  imageDigest: string,
  publicKeyPem: string,
  annotated?: string,
): AttestationCheck {
  let envelope: DsseEnvelope;
  try {
    envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as DsseEnvelope;
    if (!verifyEnvelope(envelope, publicKeyPem)) throw new Error('bad signature');
  } catch {
    return {
      verified: false,
      predicateType: annotated,
      reason:
        'attestation signature does not verify with the given public key (wrong key or tampered)',
    };
  }
  if (envelope.payloadType !== InTotoPayloadType) {
    return {
      verified: false,
      predicateType: annotated,
      reason: `payload type ${envelope.payloadType} is not ${InTotoPayloadType}`,
    };
  }
  const { statement, reason } = statementAbout(
    Buffer.from(envelope.payload, 'base64'),
    imageDigest,
  );
  if (!statement || reason)
    return { verified: false, predicateType: annotated, reason: reason ?? 'no statement' };
  if (annotated !== undefined && annotated !== statement.predicateType) {
    return {
      verified: false,
      predicateType: annotated,
      reason: `layer says ${annotated} but the statement is ${statement.predicateType}`,
    };
  }
  return { verified: true, predicateType: statement.predicateType, statement };
}
