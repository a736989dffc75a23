export type { Finding, FindingLocation } from './finding.ts';
export { runScanGate, type ScanGateInput, type ScanGateResult } from './gate.ts';
export {
  checkManifests,
  manifestRules,
  mutableImageProblem,
  type ManifestRuleId,
} from './manifest-rules.ts';
export {
  advisorySeverity,
  inRange,
  loadAdvisories,
  matchAdvisories,
  parseAdvisory,
  type OsvAdvisory,
  type PackageRef,
} from './osv.ts';
export {
  evaluatePolicy,
  parseScanExceptions,
  parseScanPolicy,
  type ScanException,
  type ScanPolicy,
  type ScanVerdict,
} from './policy.ts';
export { parseSarif, toSarif, type SarifLog } from './sarif.ts';
export { compareSemVer, compareVersions, parseSemVer, type SemVer } from './semver.ts';
export {
  cvss3BaseScore,
  severities,
  severityFromScore,
  severityFromWord,
  type Severity,
} from './severity.ts';
