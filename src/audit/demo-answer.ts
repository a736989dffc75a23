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

function answerLines(d: AuditedDeployment): string[] {
  const a = d.approval;
  const who = a.approvals.length
    ? a.approvals
        .map((x) => `${x.identity} (${x.roles.join('/')}, ${x.source}, ${x.at})`)
        .join(', ')
    : 'nobody';
  const change = a.change
    ? `${a.change.id} (${a.change.type}${a.change.retroReview ? `, reviewed by ${a.change.retroReview.reviewer}` : ''})`
    : 'no change record';
  const images = d.artifact.images.map(
    (i) =>
      `${i.name.split('@')[0]}@${i.digest.slice(0, 19)}… from ${i.sourceCommit?.slice(0, 12) ?? 'unknown commit'}, scan ${i.scanVerdict ?? 'none'}, signed by ${i.signedBy ?? 'nobody'}`,
  );
  const drifts = d.proof.drifts.map(
    (x) =>
      `drift ${x.seq} by ${x.fieldManager}${x.incident ? `, incident ${x.incident.id}` : ''}${x.reverted ? ', reverted' : ''}`,
  );
  return [
    `${d.id} at ${d.deployedAt}${d.rollback ? ` (rollback to ${d.rollback.toCommit.slice(0, 12)})` : ''}`,
    `  who approved: ${who}; change ${change}; author ${a.proposal?.author ?? 'unknown'}, separation of duties ${a.separationOfDuties.verdict}`,
    `  what was deployed: ${images.join('; ') || 'no image recorded'}`,
    `  live = approved: ${d.proof.verdict}; applied ${d.proof.appliedDigest?.slice(0, 19) ?? 'none'}…, ${d.proof.verifications.length} verification(s)${drifts.length ? `; ${drifts.join('; ')}` : ''}`,
  ];
}
