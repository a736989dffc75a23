import type { Severity } from './severity.ts';

/** Where a finding was made: a package of the SBOM, or an object of the rendered manifests. */
export interface FindingLocation {
  purl?: string;
  /** e.g. `Deployment/shop/checkout`. */
  object?: string;
  /** Field path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  path?: string;
  /** A file from an ingested SARIF result. */
  uri?: string;
}

/** One thing the scan gate found. `id` is what exceptions name: an advisory id or a rule id. */
export interface Finding {
  id: string;
  kind: 'vulnerability' | 'manifest' | 'external';
  severity: Severity;
  /** CVSS base score or SARIF security-severity, when known. */
  score?: number;
  title: string;
  message: string;
  location: FindingLocation;
  /** The tool that found it: `changeproof-osv`, `changeproof-manifest-rules` or an ingested tool. */
  tool: string;
  aliases?: string[];
  fixedIn?: string[];
}
