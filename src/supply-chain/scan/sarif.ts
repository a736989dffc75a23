import { SupplyChainError } from '../supply-chain-error.ts';
import type { Finding } from './finding.ts';
import { scoreOfSeverity, severityFromScore, type Severity } from './severity.ts';

/** The SARIF 2.1.0 shapes changeproof writes and reads (OASIS Static Analysis Results Format). */
export interface SarifLog {
  $schema?: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRun {
  tool: { driver: SarifDriver; extensions?: SarifDriver[] };
  results?: SarifResult[];
}

interface SarifDriver {
  name: string;
  version?: string;
  informationUri?: string;
  rules?: SarifRule[];
}

interface SarifRule {
  id: string;
  shortDescription?: { text: string };
  defaultConfiguration?: { level?: SarifLevel };
  properties?: Record<string, unknown>;
}

type SarifLevel = 'none' | 'note' | 'warning' | 'error';

interface SarifResult {
  ruleId?: string;
  ruleIndex?: number;
  rule?: { id?: string; index?: number };
  level?: SarifLevel;
  message: { text?: string; markdown?: string };
  locations?: SarifLocation[];
  properties?: Record<string, unknown>;
}

interface SarifLocation {
  physicalLocation?: { artifactLocation?: { uri?: string } };
  logicalLocations?: { name?: string; fullyQualifiedName?: string; kind?: string }[];
}

const levelOfSeverity: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/** Writes findings as SARIF 2.1.0, one run per tool, each rule once with its security-severity. */
export function toSarif(findings: readonly Finding[], toolVersion = '0.1.0'): SarifLog {
  const byTool = new Map<string, Finding[]>();
  for (const finding of findings)
    byTool.set(finding.tool, [...(byTool.get(finding.tool) ?? []), finding]);
  if (byTool.size === 0) byTool.set('changeproof', []);

  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [...byTool].map(([tool, toolFindings]) => ({
      tool: { driver: { name: tool, version: toolVersion, rules: rulesOf(toolFindings) } },
      results: toolFindings.map(resultOf),
    })),
  };
}

function rulesOf(findings: readonly Finding[]): SarifRule[] {
  const rules = new Map<string, SarifRule>();
  for (const finding of findings) {
    if (rules.has(finding.id)) continue;
    rules.set(finding.id, {
      id: finding.id,
      shortDescription: { text: finding.title },
      defaultConfiguration: { level: levelOfSeverity[finding.severity] },
      properties: { 'security-severity': securitySeverity(finding) },
    });
  }
  return [...rules.values()];
}

function resultOf(finding: Finding): SarifResult {
  const location: SarifLocation = {};
  if (finding.location.uri)
    location.physicalLocation = { artifactLocation: { uri: finding.location.uri } };
  const logical = finding.location.purl ?? finding.location.object;
  if (logical) {
    const name = finding.location.path ? `${logical}#${finding.location.path}` : logical;
    location.logicalLocations = [
      { fullyQualifiedName: name, kind: finding.location.purl ? 'package' : 'resource' },
    ];
  }
  return {
    ruleId: finding.id,
    level: levelOfSeverity[finding.severity],
    message: { text: finding.message },
    ...(location.physicalLocation || location.logicalLocations ? { locations: [location] } : {}),
    properties: { severity: finding.severity, 'security-severity': securitySeverity(finding) },
  };
}

/** GitHub code scanning's convention: a CVSS-like score as a string. */
function securitySeverity(finding: Finding): string {
  return (finding.score ?? scoreOfSeverity(finding.severity)).toFixed(1);
}

/**
 * Reads another scanner's SARIF (`--sarif`) into findings. Severity comes from
 * `properties.security-severity` of the result or its rule, else from the SARIF level
 * (error → high, warning → medium, note → low); results of level `none` are not findings.
 */
export function parseSarif(text: string, file: string): Finding[] {
  let log: SarifLog;
  try {
    log = JSON.parse(text) as SarifLog;
  } catch (cause) {
    throw new SupplyChainError('SARIF_INVALID', `SARIF file ${file} is not valid JSON`, { cause });
  }
  if (log?.version !== '2.1.0' || !Array.isArray(log.runs)) {
    throw new SupplyChainError(
      'SARIF_INVALID',
      `SARIF file ${file} is not SARIF 2.1.0 (version, runs[])`,
    );
  }
  return log.runs.flatMap((run) => findingsOfRun(run, file));
}

function findingsOfRun(run: SarifRun, file: string): Finding[] {
  const tool = run.tool?.driver?.name;
  if (!tool)
    throw new SupplyChainError(
      'SARIF_INVALID',
      `SARIF file ${file} has a run without tool.driver.name`,
    );
  const rules = run.tool.driver.rules ?? [];
  const findings: Finding[] = [];
  for (const result of run.results ?? []) {
    const rule = ruleOf(result, rules);
    const id = result.ruleId ?? result.rule?.id ?? rule?.id ?? 'unknown-rule';
    const severity = ingestedSeverity(result, rule);
    if (!severity) continue;
    const finding: Finding = {
      id,
      kind: 'external',
      severity: severity.severity,
      title: rule?.shortDescription?.text ?? id,
      message: result.message?.text ?? result.message?.markdown ?? id,
      location: locationOf(result),
      tool,
    };
    if (severity.score !== undefined) finding.score = severity.score;
    findings.push(finding);
  }
  return findings;
}

function ruleOf(result: SarifResult, rules: readonly SarifRule[]): SarifRule | undefined {
  const index = result.ruleIndex ?? result.rule?.index;
  if (index !== undefined) return rules[index];
  const id = result.ruleId ?? result.rule?.id;
  return rules.find((rule) => rule.id === id);
}

function ingestedSeverity(
  result: SarifResult,
  rule: SarifRule | undefined,
): { severity: Severity; score?: number } | undefined {
  const raw = result.properties?.['security-severity'] ?? rule?.properties?.['security-severity'];
  const score = raw === undefined ? undefined : Number(raw);
  if (score !== undefined && Number.isFinite(score)) {
    const severity = severityFromScore(score);
    return severity ? { severity, score } : undefined;
  }
  // SARIF's default level is warning when neither the result nor the rule names one.
  const level = result.level ?? rule?.defaultConfiguration?.level ?? 'warning';
  if (level === 'error') return { severity: 'high' };
  if (level === 'warning') return { severity: 'medium' };
  if (level === 'note') return { severity: 'low' };
  return undefined;
}

function locationOf(result: SarifResult): Finding['location'] {
  const first = result.locations?.[0];
  const uri = first?.physicalLocation?.artifactLocation?.uri;
  const logical = first?.logicalLocations?.[0];
  const object = logical?.fullyQualifiedName ?? logical?.name;
  return { ...(uri ? { uri } : {}), ...(object ? { object } : {}) };
}
