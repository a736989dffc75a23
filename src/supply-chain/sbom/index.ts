export {
  generateSbom,
  npmComponents,
  type CycloneDxBom,
  type CycloneDxComponent,
  type GenerateSbomOptions,
  type Sbom,
} from './cyclonedx.ts';
export { isNpmLockfilePath, parseNpmLockfile, type LockedPackage } from './npm-lockfile.ts';
export { npmPurl, ociPurl, parseNpmPurl } from './purl.ts';
