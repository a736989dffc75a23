import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ServiceConfig } from '../../config/schema.ts';
import type { ConfigCheckout } from '../../gitops/config-checkout.ts';
import type { KubeObject } from '../../gitops/render.ts';
import { sha256Digest } from '../../supply-chain/digest.ts';
import type { Sbom } from '../../supply-chain/sbom/cyclonedx.ts';
import { runScanGate, type ScanGateResult } from '../../supply-chain/scan/gate.ts';
import { loadAdvisories } from '../../supply-chain/scan/osv.ts';
import { parseSarif } from '../../supply-chain/scan/sarif.ts';
import { DeliveryError } from '../errors.ts';
import type { StepOutcome } from '../run.ts';

export interface ScanOutcome {
  result: ScanGateResult;
  sarifDigest: string;
  /** The overlay as it will be proposed, rendered by kustomize: what the manifest rules read. */
  rendered: KubeObject[];
  advisoriesDigest: string;
  startedOn: Date;
  finishedOn: Date;
}

/**
 * The scan gate over what would be deployed: the SBOM against the OSV advisories, the rules
 * over the service's overlay rendered with the new image, and other scanners' SARIF. A blocked
 * verdict stops the run before anything is pushed or signed.
 */
export async function runScanStep(options: {
  sbom: Sbom;
  checkout: ConfigCheckout;
  service: string;
  env: string;
  settings: ServiceConfig;
  advisoriesDir: string;
  sarifFiles: string[];
  sourceDir: string;
  now: () => Date;
}): Promise<StepOutcome<ScanOutcome>> {
  const startedOn = options.now();
  const advisories = await loadAdvisories(options.advisoriesDir);
  const rendered = await options.checkout.render(options.service, options.env);
  const externalFindings = (
    await Promise.all(
      options.sarifFiles.map(async (file) =>
        parseSarif(await readFile(resolve(options.sourceDir, file), 'utf8'), file),
      ),
    )
  ).flat();
  const result = runScanGate({
    sbom: options.sbom.bom,
    advisories,
    manifests: rendered,
    externalFindings,
    policy: options.settings.scan.policy,
    exceptions: options.settings.scan.exceptions,
    now: startedOn,
  });
  const sarifDigest = sha256Digest(JSON.stringify(result.sarif));
  const outputs = {
    verdict: result.verdict,
    policy: result.policy,
    counts: result.counts,
    findings: result.findings.length,
    exceptionsApplied: result.exceptionsApplied.map((exception) => exception.id),
    exceptionsExpired: result.exceptionsExpired.map((exception) => exception.id),
    sarifDigest,
    advisories: advisories.length,
    renderedObjects: rendered.length,
  };
  if (result.verdict === 'blocked') throw blocked(result, outputs);
  const advisoriesDigest = sha256Digest(advisories.map((a) => a.id).join('\n'));
  return {
    value: {
      result,
      sarifDigest,
      rendered,
      advisoriesDigest,
      startedOn,
      finishedOn: options.now(),
    },
    outputs,
    detail: `${result.verdict} (${result.findings.length} finding(s), policy ${result.policy})`,
  };
}

function blocked(result: ScanGateResult, outputs: Record<string, unknown>): DeliveryError {
  const open = result.findings.filter((finding) => finding.exceptedBy === undefined);
  const worst =
    open.find((f) => f.severity === 'critical') ??
    open.find((f) => f.severity === 'high') ??
    open[0];
  const counts = Object.entries(result.counts)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
    .join(', ');
  return new DeliveryError(
    'SCAN_BLOCKED',
    `scan gate blocked the image under ${result.policy}: ${counts}${worst ? `, e.g. ${worst.id} ${worst.title}${worst.location.purl ? ` in ${worst.location.purl}` : ''}` : ''}; fix it or add an approved exception`,
    { details: { outputs } },
  );
}
