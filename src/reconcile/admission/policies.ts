import type { KubeObject } from '../../gitops/render.ts';
import { CycloneDxPredicateType, SlsaProvenanceV1 } from '../../supply-chain/attest/predicates.ts';

/** What the generated policies enforce: images matching the globs are signed by these keys. */
export interface ImagePolicyInput {
  /** Image globs, e.g. `registry.example.com/shop/*`. */
  images: string[];
  publicKeys: string[];
  /** Predicate types that must be attested by the same keys (default: provenance and SBOM). */
  predicates?: string[];
  name?: string;
}

const defaults = [SlsaProvenanceV1, CycloneDxPredicateType];

/**
 * A Kyverno ClusterPolicy with a `verifyImages` rule equivalent to changeproof's admission
 * webhook: cosign key-based signatures (no transparency log), digests required and mutated in,
 * and the required attestations, enforced.
 */
export function kyvernoPolicy(input: ImagePolicyInput): KubeObject {
  const keys = input.publicKeys.join('\n');
  const attestor = {
    entries: [
      { keys: { publicKeys: keys, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } },
    ],
  };
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: input.name ?? 'changeproof-verify-images' },
    spec: {
      webhookTimeoutSeconds: 30,
      background: false,
      rules: [
        {
          name: 'verify-signature-and-attestations',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              type: 'Cosign',
              imageReferences: input.images,
              failureAction: 'Enforce',
              mutateDigest: true,
              verifyDigest: true,
              required: true,
              attestors: [attestor],
              attestations: (input.predicates ?? defaults).map((type) => ({
                type,
                attestors: [attestor],
                conditions: [{ all: [] }],
              })),
            },
          ],
        },
      ],
    },
  };
}

/** A Sigstore policy-controller ClusterImagePolicy with the same rules. */
export function policyControllerPolicy(input: ImagePolicyInput): KubeObject {
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name: input.name ?? 'changeproof-verify-images' },
    spec: {
      images: input.images.map((glob) => ({ glob })),
      authorities: input.publicKeys.map((key, index) => ({
        name: `pipeline-${index}`,
        key: { data: key, hashAlgorithm: 'sha256' },
        signatureFormat: 'legacy',
        attestations: (input.predicates ?? defaults).map((predicateType, n) => ({
          name: `required-${n}`,
          // Without a policy, an attestation of the type signed by the key is what is required.
          predicateType,
        })),
      })),
    },
  };
}
