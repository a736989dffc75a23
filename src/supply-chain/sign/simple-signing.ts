/** Cosign's "simple signing" payload type string. */
export const SimpleSigningType = 'cosign container image signature';

/** The payload cosign signs for an image; verifiers check the digest, not the reference. */
export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, string> | null;
}

/**
 * The payload bytes in cosign's key order (critical.identity, critical.image, critical.type,
 * optional), compact JSON. `annotations` become `optional`, as `cosign sign -a key=value` does.
 */
export function simpleSigningPayload(
  repository: string,
  imageDigest: string,
  annotations?: Record<string, string>,
): Buffer {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { 'docker-reference': repository },
      image: { 'docker-manifest-digest': imageDigest },
      type: SimpleSigningType,
    },
    optional: annotations && Object.keys(annotations).length > 0 ? annotations : null,
  };
  return Buffer.from(JSON.stringify(payload));
}
