import { signEnvelope } from '../dsse.ts';
import { bytesBlob } from '../image/artifact.ts';
import { MediaType, type OciArtifact } from '../oci/types.ts';
import type { Signer } from '../signer.ts';
import { cosignLayersArtifact, existingLayers, type TaggedArtifact } from '../sign/classic.ts';
import { attestationTag } from '../sign/tags.ts';
import { SupplyChainError } from '../supply-chain-error.ts';
import { imageStatement, InTotoPayloadType, type ImageRef } from './statement.ts';

/** One predicate to attest about the image. */
export interface Attestation {
  predicateType: string;
  predicate: unknown;
}

/**
 * Signs each predicate as a DSSE envelope of an in-toto v1 statement about the image and lays
 * them out as cosign's classic `sha256-<hex>.att`: one layer per envelope with the annotations
 * `dev.cosignproject.cosign/signature: ""` and `predicateType`. An existing `.att` is extended.
 */
export async function createAttestations(
  image: ImageRef,
  attestations: readonly Attestation[],
  signer: Signer,
  existing?: OciArtifact,
): Promise<TaggedArtifact> {
  let artifact = existing;
  let layers = existingLayers(existing, MediaType.dsseEnvelope);
  for (const attestation of attestations) {
    const statement = imageStatement(image, attestation.predicateType, attestation.predicate);
    const envelope = await signEnvelope(
      InTotoPayloadType,
      Buffer.from(JSON.stringify(statement)),
      signer,
    );
    const layer = bytesBlob(MediaType.dsseEnvelope, Buffer.from(JSON.stringify(envelope)), {
      'dev.cosignproject.cosign/signature': '',
      predicateType: attestation.predicateType,
    });
    artifact = cosignLayersArtifact(layers, layer, artifact);
    layers = existingLayers(artifact, MediaType.dsseEnvelope);
  }
  if (!artifact || attestations.length === 0) {
    throw new SupplyChainError(
      'OPTION_INVALID',
      'no attestations given; pass at least one predicate',
    );
  }
  return { tag: attestationTag(image.digest), artifact };
}
