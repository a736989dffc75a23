import type { KubeObject } from '../gitops/render.ts';
import { verifyAttestations } from '../supply-chain/attest/verify.ts';
import { RegistryClient } from '../supply-chain/oci/client.ts';
import { parseImageReference } from '../supply-chain/oci/reference.ts';
import type { Blob, ImageManifest, OciArtifact } from '../supply-chain/oci/types.ts';
import { attestationTag, signatureTag } from '../supply-chain/sign/tags.ts';
import { keyIdOf } from '../supply-chain/sign/keys.ts';
import { verifyClassicSignature } from '../supply-chain/sign/verify-classic.ts';
import { CycloneDxPredicateType, SlsaProvenanceV1 } from '../supply-chain/attest/predicates.ts';
import { isChangeproofError, messageOf } from '../errors.ts';

/** What an image must carry before the CD plane lets it near a cluster. */
export interface ImageTrustPolicy {
  /** PEM public keys of the pipeline; a signature by any one of them is accepted. */
  publicKeys: string[];
  /** Predicate types each image needs a verified attestation of. */
  requiredPredicates: string[];
}

/** Provenance and SBOM: what CP-07 asks of every deployed image. */
export const defaultRequiredPredicates = [SlsaProvenanceV1, CycloneDxPredicateType];

export type ImageVerdict =
  | { image: string; trusted: true; digest: string; signedBy: string }
  | { image: string; trusted: false; reason: string; upstream?: boolean };

/** Gets a registry client for a registry host (credentials and TLS are the caller's choice). */
export type RegistryClientFactory = (registry: string) => RegistryClient;

/** Loopback registries speak plain HTTP; every other registry HTTPS. */
export const defaultRegistryClients: RegistryClientFactory = (registry) =>
  new RegistryClient({
    registry,
    insecure: /^(127\.|localhost[:]|\[::1\])/.test(registry),
    retry: { attempts: 2 },
  });

/** Every container image of every workload in the objects, init containers included. */
export function imagesIn(objects: readonly KubeObject[]): string[] {
  const images = new Set<string>();
  for (const object of objects) {
    for (const spec of podSpecsOf(object)) {
      for (const list of [spec.initContainers, spec.containers, spec.ephemeralContainers]) {
        for (const container of (list ?? []) as { image?: unknown }[]) {
          if (typeof container.image === 'string') images.add(container.image);
        }
      }
    }
  }
  return [...images].sort();
}

type PodSpec = Record<string, unknown>;

function podSpecsOf(object: KubeObject): PodSpec[] {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  if (object.kind === 'Pod') return [spec];
  const template = spec.template as { spec?: PodSpec } | undefined;
  if (template?.spec) return [template.spec];
  const job = spec.jobTemplate as { spec?: { template?: { spec?: PodSpec } } } | undefined;
  return job?.spec?.template?.spec ? [job.spec.template.spec] : [];
}

/**
 * Checks images the way CP-06 and CP-07 define trust: pinned by digest, a cosign signature by a
 * pipeline key over that digest, and a verified attestation of every required predicate type.
 * Positive verdicts are cached per digest; refusals are not, so a fixed image passes next time.
 */
export class ImageVerifier {
  private readonly trusted = new Map<string, ImageVerdict>();

  constructor(
    private readonly policy: ImageTrustPolicy,
    private readonly clients: RegistryClientFactory = defaultRegistryClients,
  ) {}

  async verifyAll(images: readonly string[]): Promise<ImageVerdict[]> {
    return Promise.all(images.map((image) => this.verify(image)));
  }

  async verify(image: string): Promise<ImageVerdict> {
    const cached = this.trusted.get(image);
    if (cached) return cached;
    let verdict: ImageVerdict;
    try {
      verdict = await this.check(image);
    } catch (error) {
      const upstream = isChangeproofError(error) && error.category === 'upstream';
      verdict = { image, trusted: false, reason: messageOf(error), upstream };
    }
    if (verdict.trusted) this.trusted.set(image, verdict);
    return verdict;
  }

  private async check(image: string): Promise<ImageVerdict> {
    const reference = parseImageReference(image);
    const digest = reference.digest;
    if (!digest) return { image, trusted: false, reason: `${image} is not pinned by digest` };
    const client = this.clients(reference.registry);

    const signatures = await pullArtifact(client, reference.repository, signatureTag(digest));
    if (!signatures) return { image, trusted: false, reason: `${image} has no signature` };
    const signer = this.policy.publicKeys.find(
      (key) => verifyClassicSignature(signatures, digest, key).verified,
    );
    if (!signer) {
      const why = verifyClassicSignature(signatures, digest, this.policy.publicKeys[0] ?? '');
      const reason = why.verified ? 'no key configured' : why.reason;
      return {
        image,
        trusted: false,
        reason: `${image} is not signed by the pipeline key: ${reason}`,
      };
    }

    const missing = await this.missingAttestations(client, reference.repository, digest, signer);
    if (missing.length > 0) {
      return {
        image,
        trusted: false,
        reason: `${image} lacks a verified attestation of ${missing.join(', ')}`,
      };
    }
    return { image, trusted: true, digest, signedBy: keyIdOf(signer) };
  }

  private async missingAttestations(
    client: RegistryClient,
    repository: string,
    digest: string,
    key: string,
  ): Promise<string[]> {
    if (this.policy.requiredPredicates.length === 0) return [];
    const attestations = await pullArtifact(client, repository, attestationTag(digest));
    const verified = new Set(
      (attestations ? verifyAttestations(attestations, digest, key) : [])
        .filter((check) => check.verified)
        .map((check) => check.predicateType),
    );
    return this.policy.requiredPredicates.filter((type) => !verified.has(type));
  }
}

/** A cosign classic artifact (`.sig`, `.att`) with its layer blobs; undefined when absent. */
async function pullArtifact(
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<OciArtifact | undefined> {
  let pulled;
  try {
    pulled = await client.getManifest(repository, tag);
  } catch (error) {
    if (isChangeproofError(error) && error.category === 'upstream') throw error;
    return undefined;
  }
  const manifest = pulled.manifest as ImageManifest;
  const blobs: Blob[] = await Promise.all(
    (manifest.layers ?? []).map(async (descriptor) => ({
      descriptor,
      bytes: await client.pullBlob(repository, descriptor.digest),
    })),
  );
  return { manifest, manifestBytes: pulled.bytes, manifestDigest: pulled.digest, blobs };
}
