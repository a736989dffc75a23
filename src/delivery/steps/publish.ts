import type { ImageRef } from '../../supply-chain/attest/statement.ts';
import { createAttestations } from '../../supply-chain/attest/att-artifact.ts';
import {
  provenancePredicate,
  sbomPredicate,
  scanPredicate,
  SlsaProvenanceV1,
  CycloneDxPredicateType,
  VulnPredicateType,
  type ProvenanceInput,
} from '../../supply-chain/attest/predicates.ts';
import { isChangeproofError } from '../../errors.ts';
import { manifestDescriptor } from '../../supply-chain/image/artifact.ts';
import type { RegistryClient } from '../../supply-chain/oci/client.ts';
import type { OciArtifact } from '../../supply-chain/oci/types.ts';
import type { Sbom } from '../../supply-chain/sbom/cyclonedx.ts';
import { createImageBundle } from '../../supply-chain/sign/bundle.ts';
import { createClassicSignature } from '../../supply-chain/sign/classic.ts';
import { bundleReferrer } from '../../supply-chain/sign/referrer.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { attestationTag, signatureTag } from '../../supply-chain/sign/tags.ts';
import type { StepOutcome } from '../run.ts';
import type { DeliveredImage } from './build.ts';
import type { ScanOutcome } from './scan.ts';

/** Where the image lives once pushed. */
export interface PushedImage extends ImageRef {
  /** Repository inside the registry, e.g. `checkout`. */
  name: string;
  tag: string;
}

/** Pushes the image's blobs and manifest under its commit tag; every digest is checked. */
export async function runPushStep(
  client: RegistryClient,
  registryHost: string,
  name: string,
  image: DeliveredImage,
): Promise<StepOutcome<PushedImage>> {
  const descriptor = await client.pushArtifact(name, image.artifact, image.tag);
  const repository = `${registryHost}/${name}`;
  const bytes = image.artifact.blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);
  return {
    value: { repository, name, digest: descriptor.digest, tag: image.tag },
    outputs: {
      image: `${repository}@${descriptor.digest}`,
      tag: image.tag,
      digest: descriptor.digest,
      bytes,
    },
    detail: `${repository}:${image.tag.slice(0, 12)}`,
  };
}

/**
 * Signs the pushed image with the pipeline key held by the broker: a cosign classic signature
 * under `sha256-<hex>.sig` (appended to any already there) and a Sigstore bundle v0.3 pushed as
 * an OCI referrer of the image.
 */
export async function runSignStep(
  client: RegistryClient,
  image: PushedImage,
  delivered: DeliveredImage,
  signer: Signer,
  now: Date,
): Promise<StepOutcome<{ signatureTag: string; bundleDigest: string }>> {
  // The classic signature and the bundle are independent: sign and push both at once.
  const [classic, referrer] = await Promise.all([
    existingArtifact(client, image.name, signatureTag(image.digest)).then((existing) =>
      createClassicSignature({ image, signer, ...(existing ? { existing } : {}) }),
    ),
    createImageBundle(image, signer).then((bundle) =>
      bundleReferrer({
        bundle,
        subject: manifestDescriptor(delivered.artifact),
        created: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }),
    ),
  ]);
  const [signature, pushedBundle] = await Promise.all([
    client.pushArtifact(image.name, classic.artifact, classic.tag),
    client.pushArtifact(image.name, referrer),
  ]);
  return {
    value: { signatureTag: classic.tag, bundleDigest: pushedBundle.digest },
    outputs: {
      signatureTag: classic.tag,
      signatureDigest: signature.digest,
      bundleDigest: pushedBundle.digest,
      keyId: signer.keyId,
    },
    detail: `${classic.tag.slice(0, 19)}… by ${signer.keyId.slice(0, 12)}…`,
  };
}

/** Attests SLSA provenance v1, the CycloneDX SBOM and the scan result under `sha256-<hex>.att`. */
export async function runAttestStep(options: {
  client: RegistryClient;
  image: PushedImage;
  signer: Signer;
  sbom: Sbom;
  scan: ScanOutcome;
  provenance: ProvenanceInput;
  advisoriesUri: string;
}): Promise<StepOutcome<{ attestationTag: string }>> {
  const { client, image, scan } = options;
  const predicates = [
    { predicateType: SlsaProvenanceV1, predicate: provenancePredicate(options.provenance) },
    { predicateType: CycloneDxPredicateType, predicate: sbomPredicate(options.sbom.bom) },
    {
      predicateType: VulnPredicateType,
      predicate: scanPredicate({
        result: scan.result,
        invocationId: options.provenance.invocationId,
        builderId: options.provenance.builderId,
        advisoryDatabase: { uri: options.advisoriesUri, version: scan.advisoriesDigest },
        startedOn: scan.startedOn,
        finishedOn: scan.finishedOn,
      }),
    },
  ];
  const existing = await existingArtifact(client, image.name, attestationTag(image.digest));
  const attestations = await createAttestations(image, predicates, options.signer, existing);
  const pushed = await client.pushArtifact(image.name, attestations.artifact, attestations.tag);
  return {
    value: { attestationTag: attestations.tag },
    outputs: {
      attestationTag: attestations.tag,
      attestationDigest: pushed.digest,
      predicateTypes: predicates.map((p) => p.predicateType),
    },
    detail: `${predicates.length} attestations`,
  };
}

/** The manifest already under `tag`, so new signatures are appended rather than replacing it. */
async function existingArtifact(
  client: RegistryClient,
  name: string,
  tag: string,
): Promise<OciArtifact | undefined> {
  try {
    const pulled = await client.getManifest(name, tag);
    return {
      manifest: pulled.manifest,
      manifestBytes: pulled.bytes,
      manifestDigest: pulled.digest,
      blobs: [],
    };
  } catch (error) {
    if (
      isChangeproofError(error) &&
      (error.code === 'MANIFEST_UNKNOWN' || error.code === 'NAME_UNKNOWN')
    ) {
      return undefined;
    }
    throw error;
  }
}
