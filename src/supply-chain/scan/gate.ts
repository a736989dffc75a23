import { npmComponents, type CycloneDxBom } from '../sbom/cyclonedx.ts';
import type { Finding } from './finding.ts';
import { checkManifests } from './manifest-rules.ts';
import { matchAdvisories, type OsvAdvisory } from './osv.ts';
import { evaluatePolicy, type ScanException, type ScanPolicy, type ScanVerdict } from './policy.ts';
import { toSarif, type SarifLog } from './sarif.ts';

export interface ScanGateInput {
  sbom: CycloneDxBom;
  advisories: readonly OsvAdvisory[];
  /** Rendered Kubernetes objects of the service, as parsed YAML. */
  manifests?: readonly unknown[];
  /** Findings read from other scanners' SARIF (see parseSarif). */
  externalFindings?: readonly Finding[];
  policy?: ScanPolicy;
  exceptions?: readonly ScanException[];
  now: Date;
}

export interface ScanGateResult extends ScanVerdict {
  sarif: SarifLog;
}

/**
 * The scan gate: SBOM packages against the advisories, rules over the manifests, other
 * scanners' findings, then the service's policy and exceptions. A `blocked` verdict means the
 * pipeline signs and pushes nothing.
 */
export function runScanGate(input: ScanGateInput): ScanGateResult {
  const findings = [
    ...matchAdvisories(npmComponents(input.sbom), input.advisories),
    ...checkManifests(input.manifests ?? []),
    ...(input.externalFindings ?? []),
  ];
  const verdict = evaluatePolicy(
    findings,
    input.policy ?? 'block-critical',
    input.exceptions ?? [],
    input.now,
  );
  return { ...verdict, sarif: toSarif(verdict.findings) };
}
