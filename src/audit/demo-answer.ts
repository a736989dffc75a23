import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceContext } from '../workspace/context.ts';
import { auditInputsOf, runControlAudit } from './inputs.ts';
import { exportPack } from './pack/export.ts';
import { verifyPack } from './pack/verify.ts';
import { allTime } from './range.ts';
import type { AuditedDeployment } from './types.ts';

/**
 * The demo's last word: the auditor's answer for every production deployment the story made,
 * the control findings, and an evidence pack verified offline, then verified again with one
 * byte changed. With no production deployment in the ledger yet it says so and stops.
 */
export async function sayAuditAnswer(
  ws: WorkspaceContext,
  say: (line: string) => void,
): Promise<void> {
  const scope = { range: allTime(), envs: [] };
  const inputs = auditInputsOf(ws);
  const { deployments, report } = await runControlAudit(inputs, scope);
  if (deployments.length === 0) {
    say(
      'no production deployment in the ledger yet: the delivery, change and sync steps record them, and the audit answers as soon as they do',
    );
    return;
  }
  for (const d of deployments) for (const line of answerLines(d)) say(line);
  say(`controls: ${report.failures.length} finding(s)`);
  for (const f of report.failures)
    say(`  ${f.control} ${f.subject}: ${f.reason} (entries ${f.evidence.join(', ')})`);

  const lease = await ws.broker.openLease({
    holder: 'system:audit-export',
    scopes: ['sign:control-plane'],
    ttlSeconds: 120,
  });
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-pack-'));
  try {
    const signer = await ws.broker.signer(lease.id, 'control-plane');
    const pack = await exportPack(inputs, scope, { ledger: ws.ledger, signer, pdf: false });
    const intact = await verifyPack(pack.zip, { expectedPublicKey: ws.controlPlanePublicKey });
    say(
      `evidence pack: ${pack.zip.length} bytes, ${pack.entries} entries proven against checkpoint ${pack.checkpoint.treeSize}; verify offline: ${intact.ok ? 'intact' : intact.problems[0]?.message}`,
    );
    const altered = Buffer.from(pack.zip);
    const offset = altered.indexOf('"deployedAt"');
    altered[offset + 3] = altered[offset + 3]! ^ 1;
    const broken = await verifyPack(altered);
    say(
      `one byte changed at offset ${offset + 3}: ${broken.ok ? 'VERIFIED (wrong!)' : `rejected: ${broken.problems[0]?.code} ${broken.problems[0]?.message}`}`,
    );
    if (!intact.ok || broken.ok) throw new Error('the demo evidence pack did not behave');
  } finally {
    await ws.broker.revokeLease(lease.id);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The three answers for one deployment: who approved, what was deployed, and the proof. */
export function answerLines(d: AuditedDeployment): string[] {
  const rollback = d.rollback ? ` (rollback to ${d.rollback.toCommit.slice(0, 12)})` : '';
  return [
    `${d.id} at ${d.deployedAt}${rollback}`,
    `  who approved: ${whoApproved(d)}`,
    `  what was deployed: ${whatWasDeployed(d)}`,
    `  live = approved: ${proofOf(d)}`,
  ];
}

function whoApproved(d: AuditedDeployment): string {
  const a = d.approval;
  const who = a.approvals.length
    ? a.approvals
        .map((x) => `${x.identity} (${x.roles.join('/') || 'no role'}, ${x.source}, ${x.at})`)
        .join(', ')
    : 'nobody';
  const glass = a.breakGlass
    ? `; break-glass by ${a.breakGlass.actor}${a.breakGlass.selfApproved ? ' on their own change' : ` (${a.breakGlass.system} unavailable)`}`
    : '';
  return `${who}; change ${changeOf(d)}${glass}; author ${a.proposal?.author ?? 'unknown'}, separation of duties ${a.separationOfDuties.verdict}`;
}

function changeOf(d: AuditedDeployment): string {
  const change = d.approval.change;
  if (!change) return 'no change record';
  const { emergency, retroReview } = change;
  const declared = emergency
    ? `, declared by ${emergency.declaredBy}: ${emergency.reason}, review due by ${emergency.reviewDueBy}`
    : '';
  const reviewed = retroReview
    ? `, retroactive review by ${retroReview.reviewer} (${retroReview.outcome}) at ${retroReview.at}`
    : emergency
      ? ', retroactive review missing'
      : '';
  return `${change.id} (${change.type}${declared}${reviewed})`;
}

function whatWasDeployed(d: AuditedDeployment): string {
  const images = d.artifact.images.map(
    (i) =>
      `${i.name.split('@')[0]}@${i.digest.slice(0, 19)}… from ${i.sourceCommit?.slice(0, 12) ?? 'unknown commit'}, scan ${i.scanVerdict ?? 'none'}, signed by ${i.signedBy ?? 'nobody'}`,
  );
  return images.join('; ') || 'no image recorded';
}

function proofOf(d: AuditedDeployment): string {
  const { proof } = d;
  const digest = (value: string | undefined) => (value ? `${value.slice(0, 19)}…` : 'none');
  const head = d.approval.proposal?.headCommit.slice(0, 12) || 'none';
  const drifts = proof.drifts.map((x) => {
    const incident = x.incident
      ? `, incident ${x.incident.id}${x.incident.resolution ? ` resolved: ${x.incident.resolution}` : ' open'}`
      : '';
    return `drift ${x.seq} by ${x.fieldManager} on ${x.object}${incident}${x.reverted ? ', reverted' : ''}`;
  });
  const summary = `${proof.verdict}; approved ${digest(proof.approvedDigest)} at merged head ${head}, applied ${digest(proof.appliedDigest)}, live at sync ${digest(proof.liveDigestAtSync)}, ${proof.verifications.length} verification(s)`;
  return [summary, ...drifts].join('; ');
}
