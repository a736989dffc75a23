import { randomUUID } from 'node:crypto';
import { sha256Digest } from '../digest.ts';
import { listImageFiles, type ImageFile } from '../image/image-files.ts';
import type { OciArtifact } from '../oci/types.ts';
import { isNpmLockfilePath, parseNpmLockfile, type LockedPackage } from './npm-lockfile.ts';
import { npmPurl, ociPurl, splitNpmName } from './purl.ts';

/** The subset of CycloneDX 1.6 that changeproof writes. */
export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.6';
  serialNumber: string;
  version: number;
  metadata: {
    timestamp?: string;
    tools: { components: CycloneDxComponent[] };
    component: CycloneDxComponent;
  };
  components: CycloneDxComponent[];
}

export interface CycloneDxComponent {
  type: 'application' | 'library' | 'container' | 'file';
  'bom-ref'?: string;
  group?: string;
  name: string;
  version?: string;
  scope?: 'required' | 'optional' | 'excluded';
  hashes?: { alg: string; content: string }[];
  purl?: string;
  properties?: { name: string; value: string }[];
}

export interface GenerateSbomOptions {
  image: OciArtifact;
  /** Repository of the image, e.g. `registry.test/shop/checkout`. */
  imageName: string;
  /** The image's files when already listed; read from the layers otherwise. */
  files?: ImageFile[];
  /** Written as metadata.timestamp when given. */
  timestamp?: Date;
  /** A fixed serial number (urn:uuid:…); a random one otherwise, as the spec asks per BOM. */
  serialNumber?: string;
  toolVersion?: string;
}

/** A generated SBOM and the exact bytes that get attached and attested. */
export interface Sbom {
  bom: CycloneDxBom;
  bytes: Buffer;
  digest: string;
}

const integrityAlgorithms: Record<string, string> = {
  sha512: 'SHA-512',
  sha384: 'SHA-384',
  sha256: 'SHA-256',
  sha1: 'SHA-1',
};

/**
 * CycloneDX 1.6 JSON of an image: its npm packages (from every lockfile in the image) and its
 * regular files with SHA-256 hashes. A lockfile that does not parse is an error naming it.
 */
export function generateSbom(options: GenerateSbomOptions): Sbom {
  const files = options.files ?? listImageFiles(options.image);
  const packages = files
    .filter((file) => isNpmLockfilePath(file.path))
    .flatMap((file) =>
      packageComponents(parseNpmLockfile(file.content.toString('utf8'), file.path), file.path),
    );

  const bom: CycloneDxBom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      ...(options.timestamp ? { timestamp: options.timestamp.toISOString() } : {}),
      tools: {
        components: [
          { type: 'application', name: 'changeproof', version: options.toolVersion ?? '0.1.0' },
        ],
      },
      component: imageComponent(options.imageName, options.image.manifestDigest),
    },
    components: [...dedupe(packages), ...files.map(fileComponent)],
  };
  const bytes = Buffer.from(JSON.stringify(bom));
  return { bom, bytes, digest: sha256Digest(bytes) };
}

function imageComponent(imageName: string, digest: string): CycloneDxComponent {
  return {
    type: 'container',
    'bom-ref': ociPurl(imageName, digest),
    name: imageName,
    version: digest,
    hashes: [{ alg: 'SHA-256', content: digest.slice('sha256:'.length) }],
    purl: ociPurl(imageName, digest),
  };
}

function packageComponents(packages: LockedPackage[], lockfile: string): CycloneDxComponent[] {
  return packages.map((lockedPackage) => {
    const { scope, bareName } = splitNpmName(lockedPackage.name);
    const purl = npmPurl(lockedPackage.name, lockedPackage.version);
    const component: CycloneDxComponent = {
      type: 'library',
      'bom-ref': purl,
      ...(scope ? { group: scope } : {}),
      name: bareName,
      version: lockedPackage.version,
      scope: lockedPackage.optional ? 'optional' : 'required',
      purl,
      properties: [{ name: 'changeproof:lockfile', value: lockfile }],
    };
    const hash = integrityHash(lockedPackage.integrity);
    if (hash) component.hashes = [hash];
    // Property names from the CycloneDX npm taxonomy, read by other CycloneDX tools.
    if (lockedPackage.development)
      component.properties?.push({ name: 'cdx:npm:package:development', value: 'true' });
    return component;
  });
}

/** `sha512-<base64>` → `{alg: 'SHA-512', content: <hex>}`; the first supported hash wins. */
function integrityHash(
  integrity: string | undefined,
): { alg: string; content: string } | undefined {
  for (const part of integrity?.split(/\s+/) ?? []) {
    const dash = part.indexOf('-');
    const alg = integrityAlgorithms[part.slice(0, dash)];
    if (alg) return { alg, content: Buffer.from(part.slice(dash + 1), 'base64').toString('hex') };
  }
  return undefined;
}

/** One component per purl: the same package at the same version in two places is one package. */
function dedupe(components: CycloneDxComponent[]): CycloneDxComponent[] {
  const byRef = new Map<string, CycloneDxComponent>();
  for (const component of components) {
    const ref = component['bom-ref'] ?? '';
    if (!byRef.has(ref)) byRef.set(ref, component);
  }
  return [...byRef.values()];
}

function fileComponent(file: ImageFile): CycloneDxComponent {
  return {
    type: 'file',
    'bom-ref': `file:${file.path}`,
    name: file.path,
    hashes: [{ alg: 'SHA-256', content: file.sha256 }],
  };
}

/** The npm packages listed in an SBOM, as the scan gate matches them. */
export function npmComponents(
  bom: CycloneDxBom,
): { name: string; version: string; purl: string }[] {
  return bom.components
    .filter((component) => component.purl?.startsWith('pkg:npm/') && component.version)
    .map((component) => ({
      name: component.group ? `${component.group}/${component.name}` : component.name,
      version: component.version ?? '',
      purl: component.purl ?? '',
    }));
}
