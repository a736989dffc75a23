import { isDigest } from '../../supply-chain/oci/reference.ts';
import { MediaType } from '../../supply-chain/oci/types.ts';
import { OciHttpError } from './errors.ts';

const imageManifestTypes = new Set<string>([MediaType.imageManifest, MediaType.dockerManifest]);
const indexTypes = new Set<string>([MediaType.imageIndex, MediaType.dockerManifestList]);

/** What the registry keeps about a manifest beyond its bytes. */
export interface ParsedManifest {
  mediaType: string;
  /** Blobs (config, layers) that must already be in the repository, with their sizes. */
  blobs: { digest: string; size: number }[];
  /** Child manifests (of an index) that must already be in the repository. */
  manifests: string[];
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface DescriptorLike {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
}

/**
 * Checks a pushed manifest's shape against its Content-Type: an OCI or Docker v2 image
 * manifest, or an OCI index or Docker manifest list. Anything else is `MANIFEST_INVALID`.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  const mediaType = (contentType ?? '').split(';')[0]!.trim();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('manifest is not JSON');
  }
  if (typeof body !== 'object' || body === null || body.schemaVersion !== 2) {
    throw invalid('manifest must have schemaVersion 2');
  }
  if (body.mediaType !== undefined && body.mediaType !== mediaType) {
    throw invalid(`manifest mediaType ${String(body.mediaType)} differs from its Content-Type`);
  }

  const common = {
    mediaType,
    ...optionalFields(body),
  };
  if (imageManifestTypes.has(mediaType)) {
    const config = descriptor(body.config, 'config');
    const layers = descriptors(body.layers, 'layers');
    return {
      ...common,
      artifactType: common.artifactType ?? config.mediaType,
      blobs: [config, ...layers],
      manifests: [],
    };
  }
  if (indexTypes.has(mediaType)) {
    const children = descriptors(body.manifests, 'manifests');
    return { ...common, blobs: [], manifests: children.map((child) => child.digest) };
  }
  throw invalid(`Content-Type "${mediaType}" is not an image manifest or index media type`);
}

function optionalFields(body: Record<string, unknown>) {
  const fields: Pick<ParsedManifest, 'subject' | 'artifactType' | 'annotations'> = {};
  if (body.subject !== undefined) fields.subject = descriptor(body.subject, 'subject').digest;
  if (typeof body.artifactType === 'string') fields.artifactType = body.artifactType;
  if (body.annotations !== undefined) {
    if (typeof body.annotations !== 'object' || body.annotations === null) {
      throw invalid('annotations must be an object of strings');
    }
    fields.annotations = body.annotations as Record<string, string>;
  }
  return fields;
}

function descriptors(value: unknown, field: string) {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of descriptors`);
  return value.map((item, index) => descriptor(item, `${field}[${index}]`));
}

function descriptor(value: unknown, field: string) {
  const candidate = (value ?? {}) as DescriptorLike;
  if (
    typeof candidate.mediaType !== 'string' ||
    typeof candidate.digest !== 'string' ||
    !isDigest(candidate.digest) ||
    typeof candidate.size !== 'number' ||
    !Number.isSafeInteger(candidate.size) ||
    candidate.size < 0
  ) {
    throw invalid(`${field} must be a descriptor with mediaType, a sha256 digest and a size`);
  }
  return { mediaType: candidate.mediaType, digest: candidate.digest, size: candidate.size };
}

function invalid(message: string): OciHttpError {
  return new OciHttpError(400, 'MANIFEST_INVALID', message);
}
