import type { AuditedDeployment, DeployedImage } from '../audit/types.ts';
import type { ControlOutcome } from './catalogue.ts';
import { deploymentSubject, outcome, type ControlContext } from './context.ts';

/** CP-01, CP-06, CP-07, CP-08: evaluated on each production deployment. */
export function evaluateDeploymentControls(context: ControlContext): ControlOutcome[] {
  return context.deployments.flatMap((d) => [
    approvedBeforeDeployed(d),
    signedByPipeline(d, context.pipelineKeyIds),
    provenanceAndSbom(d),
    noOpenCritical(d),
  ]);
}

function approvedBeforeDeployed(d: AuditedDeployment): ControlOutcome {
  const subject = deploymentSubject(d);
  const fail = (reason: string, extra: number[] = []) =>
    outcome('CP-01', subject, 'fail', reason, [d.seq, ...extra]);
  if (d.source === 'cluster')
    return fail('seen only by the cluster: no sync, no change record', d.evidence);
  const change = d.approval.change;
  if (!change) {
    const glass = d.approval.breakGlass;
    return glass
      ? fail(`merged through break-glass by ${glass.actor} with no change record`, [glass.seq])
      : fail('no change record links to the deployed config commit');
  }
  const start = d.syncStartedAt ?? d.deployedAt;
  if (change.openedAt > start) {
    return fail(`change ${change.id} was opened retroactively, after the sync started`, [
      change.seq,
    ]);
  }
  if (change.type === 'standard') {
    return outcome('CP-01', subject, 'pass', `standard change ${change.id} is pre-approved`, [
      d.seq,
      change.seq,
    ]);
  }
  const approvals = d.approval.approvals.filter((a) => a.source === 'change');
  const before = approvals.filter((a) => a.at <= start);
  if (before.length === 0) {
    const late = approvals.map((a) => a.seq);
    return fail(
      approvals.length > 0
        ? `change ${change.id} was approved only after the sync started at ${start}`
        : `change ${change.id} has no approval`,
      [change.seq, ...late],
    );
  }
  return outcome(
    'CP-01',
    subject,
    'pass',
    `change ${change.id} approved by ${before.map((a) => a.identity).join(', ')} before ${start}`,
    [d.seq, change.seq, ...before.map((a) => a.seq)],
  );
}

function signedByPipeline(d: AuditedDeployment, keyIds: string[]): ControlOutcome {
  const subject = deploymentSubject(d);
  if (d.artifact.images.length === 0) {
    return outcome('CP-06', subject, 'fail', 'no image digests recorded for this deployment', [
      d.seq,
    ]);
  }
  const problems = d.artifact.images.flatMap((image) => {
    if (!image.pinned) return [`${image.name} is not pinned by digest (${image.digest})`];
    if (!image.signedBy) return [`${image.name} has no verified signature recorded`];
    if (keyIds.length > 0 && !keyIds.includes(image.signedBy)) {
      return [`${image.name} is signed by ${image.signedBy}, not the pipeline key`];
    }
    return [];
  });
  return problems.length > 0
    ? outcome('CP-06', subject, 'fail', problems.join('; '), [d.seq])
    : outcome('CP-06', subject, 'pass', 'every image pinned and signed by the pipeline key', [
        d.seq,
      ]);
}

function provenanceAndSbom(d: AuditedDeployment): ControlOutcome {
  const subject = deploymentSubject(d);
  const problems = imageProblems(d.artifact.images, (image) => {
    if (image.seq === undefined)
      return 'was not built by the governed pipeline (no delivery record)';
    if (!image.builtBy?.startsWith('pipeline:'))
      return `was recorded by ${image.builtBy}, not the pipeline`;
    if (!image.attestationTag) return 'has no provenance attestation';
    if (!image.sbomDigest) return 'has no SBOM';
    return undefined;
  });
  return verdictFor('CP-07', subject, d, problems, 'every image has provenance and an SBOM');
}

function noOpenCritical(d: AuditedDeployment): ControlOutcome {
  const subject = deploymentSubject(d);
  const problems = imageProblems(d.artifact.images, (image) => {
    if (image.scanVerdict === undefined) return 'has no scan verdict';
    if (image.scanVerdict !== 'pass') return `was deployed with scan verdict ${image.scanVerdict}`;
    return undefined;
  });
  return verdictFor('CP-08', subject, d, problems, 'every image passed the scan gate');
}

function imageProblems(
  images: DeployedImage[],
  check: (image: DeployedImage) => string | undefined,
): { problem: string; seq?: number }[] {
  if (images.length === 0) return [{ problem: 'no image recorded for this deployment' }];
  return images.flatMap((image) => {
    const problem = check(image);
    return problem ? [{ problem: `${image.name} ${problem}`, seq: image.seq }] : [];
  });
}

function verdictFor(
  control: string,
  subject: string,
  d: AuditedDeployment,
  problems: { problem: string; seq?: number }[],
  passed: string,
): ControlOutcome {
  const seqs = [d.seq, ...d.artifact.images.flatMap((i) => (i.seq === undefined ? [] : [i.seq]))];
  return problems.length > 0
    ? outcome(control, subject, 'fail', problems.map((p) => p.problem).join('; '), seqs)
    : outcome(control, subject, 'pass', passed, seqs);
}
