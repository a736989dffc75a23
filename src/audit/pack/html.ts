import type { ControlReport } from '../../policy/evaluate.ts';
import type { AuditedDeployment } from '../types.ts';

export interface ReportHeader {
  title: string;
  scope: string;
  populationSource: string;
  generatedAt: string;
  checkpoint: { treeSize: number; rootHash: string; keyId: string };
}

/**
 * The auditor's report: a summary, then one printable page per deployment answering who
 * approved it, what was deployed and whether the cluster matched. Self-contained: inline CSS,
 * no scripts, no external assets, so it reads the same offline and in ten years.
 */
export function renderReport(
  header: ReportHeader,
  deployments: AuditedDeployment[],
  controls: ControlReport,
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(header.title)}</title>
<style>${CSS}</style></head><body>
${summary(header, deployments, controls)}
${deployments.map(deploymentPage).join('\n')}
</body></html>
`;
}

const CSS = `body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:18pt}h2{font-size:14pt;margin-top:1.5em}h3{font-size:12pt;margin-bottom:.3em}
table{border-collapse:collapse;width:100%;margin:.4em 0}td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}code{font:9pt monospace;word-break:break-all}.fail{color:#a00;font-weight:bold}.pass{color:#060}
section.deployment{break-before:page;page-break-before:always}
@media print{body{margin:0}}`;

function summary(
  header: ReportHeader,
  deployments: AuditedDeployment[],
  controls: ControlReport,
): string {
  const cp = header.checkpoint;
  return `<section class="summary"><h1>${esc(header.title)}</h1>
<table>
<tr><th>Scope</th><td>${esc(header.scope)}</td></tr>
<tr><th>Population source</th><td>${esc(header.populationSource)}</td></tr>
<tr><th>Population size</th><td>${deployments.length}</td></tr>
<tr><th>Generated</th><td>${esc(header.generatedAt)}</td></tr>
<tr><th>Sealed by checkpoint</th><td>${cp.treeSize} entries, root <code>${esc(cp.rootHash)}</code>, key <code>${esc(cp.keyId)}</code></td></tr>
</table>
<h2>Controls</h2>
<table><tr><th>Id</th><th>Control</th><th>SOC 2</th><th>HITRUST</th><th>Evaluated</th><th>Passed</th><th>Failed</th></tr>
${controls.controls
  .map(
    (c) =>
      `<tr><td>${esc(c.id)}</td><td>${esc(c.title)}</td><td>${esc(c.soc2.join(', '))}</td><td>${esc(c.hitrust.join(', '))}</td><td>${c.evaluated}</td><td>${c.passed}</td><td class="${c.failed ? 'fail' : 'pass'}">${c.failed}</td></tr>`,
  )
  .join('\n')}
</table>
<h2>Findings</h2>
${
  controls.failures.length === 0
    ? '<p>No control failed.</p>'
    : `<table><tr><th>Control</th><th>Subject</th><th>Why it fails</th><th>Ledger entries</th></tr>
${controls.failures.map((f) => `<tr><td>${esc(f.control)}</td><td>${esc(f.subject)}</td><td>${esc(f.reason)}</td><td>${f.evidence.join(', ')}</td></tr>`).join('\n')}
</table>`
}
<h2>Population</h2>
<table><tr><th>Deployment</th><th>Deployed at</th><th>Change</th><th>Approvers</th><th>Live matches approved</th></tr>
${deployments
  .map(
    (d) =>
      `<tr><td>${esc(d.id)}</td><td>${esc(d.deployedAt)}</td><td>${esc(d.approval.change?.id ?? 'none')}</td><td>${esc(d.approval.approvals.map((a) => a.identity).join(', ') || 'none')}</td><td class="${d.proof.verdict === 'consistent' ? 'pass' : 'fail'}">${esc(d.proof.verdict)}</td></tr>`,
  )
  .join('\n')}
</table></section>`;
}

function deploymentPage(d: AuditedDeployment): string {
  return `<section class="deployment"><h2>${esc(d.id)}</h2>
<p>${esc(d.service)} in ${esc(d.env)}, deployed ${esc(d.deployedAt)} (${d.source === 'cluster' ? 'seen only by the cluster' : 'synced by the CD plane'}, ledger entry ${d.seq})${d.rollback ? `; a rollback to <code>${esc(d.rollback.toCommit)}</code>: ${esc(d.rollback.reason)}` : ''}</p>
${whoApproved(d)}
${whatWasDeployed(d)}
${doesItMatch(d)}
<p>Evidence: ledger entries ${d.evidence.join(', ')}</p></section>`;
}

function whoApproved(d: AuditedDeployment): string {
  const { change, proposal, breakGlass, approvals, separationOfDuties } = d.approval;
  const rows = [
    row(
      'Change record',
      change
        ? `${change.id} (${change.type}${change.retroactive ? ', retroactive' : ''}), opened ${change.openedAt}`
        : 'none',
    ),
    row(
      'Proposal',
      proposal
        ? `${proposal.id}, merged ${proposal.mergedAt} by ${proposal.mergedBy} via the ${proposal.path} path`
        : 'none',
    ),
    row(
      'Author / last pusher',
      proposal ? `${proposal.author} / ${proposal.lastPusher}` : 'unknown',
    ),
    breakGlass
      ? row(
          'Break-glass',
          `${breakGlass.actor}: ${breakGlass.reason} (${breakGlass.selfApproved ? 'approved their own change' : `${breakGlass.system} unavailable`})`,
        )
      : '',
    change?.emergency
      ? row(
          'Emergency',
          `declared by ${change.emergency.declaredBy}: ${change.emergency.reason}; review due by ${change.emergency.reviewDueBy}`,
        )
      : '',
    change?.retroReview
      ? row(
          'Retroactive review',
          `${change.retroReview.reviewer}, ${change.retroReview.outcome}, ${change.retroReview.at}`,
        )
      : '',
    row(
      'Separation of duties',
      `${separationOfDuties.verdict}${separationOfDuties.reasons.length ? `: ${separationOfDuties.reasons.join('; ')}` : ''}`,
      separationOfDuties.verdict !== 'pass',
    ),
  ].join('');
  const approvalRows = approvals
    .map(
      (a) =>
        `<tr><td>${esc(a.identity)}</td><td>${esc(a.roles.join(', '))}</td><td>${esc(a.team ?? '')}</td><td>${esc(a.source)}</td><td>${esc(a.at)}</td><td>${a.seq}</td></tr>`,
    )
    .join('');
  return `<h3>Who approved it</h3><table>${rows}</table>
<table><tr><th>Approver</th><th>Role</th><th>Team</th><th>Kind</th><th>Time</th><th>Entry</th></tr>${approvalRows || '<tr><td colspan="6" class="fail">no approval recorded</td></tr>'}</table>`;
}

function whatWasDeployed(d: AuditedDeployment): string {
  const images = d.artifact.images
    .map(
      (i) =>
        `<tr><td>${esc(i.name)}<br><code>${esc(i.digest)}</code></td><td><code>${esc(i.sourceCommit ?? 'unknown')}</code><br>${esc(i.sourceRepo ?? '')}</td><td><code>${esc(i.sbomDigest ?? 'none')}</code></td><td class="${i.scanVerdict === 'pass' ? 'pass' : 'fail'}">${esc(i.scanVerdict ?? 'none')}</td><td>${esc(i.signedBy ?? 'unsigned')}</td><td>${esc(i.provenanceBuilder ?? i.attestationTag ?? 'none')}<br>run ${esc(i.run ?? 'unknown')}</td></tr>`,
    )
    .join('');
  return `<h3>What was deployed</h3>
<table><tr><th>Image</th><th>Source commit</th><th>SBOM</th><th>Scan</th><th>Signed by</th><th>Provenance</th></tr>${images || '<tr><td colspan="6" class="fail">no image recorded</td></tr>'}</table>`;
}

function doesItMatch(d: AuditedDeployment): string {
  const p = d.proof;
  const drifts = p.drifts
    .map(
      (x) =>
        `<tr><td>${x.seq}</td><td>${esc(x.at)}</td><td>${esc(x.object)}</td><td>${esc(x.fieldManager)}</td><td>${esc(x.incident ? `${x.incident.id}${x.incident.resolution ? `, resolved: ${x.incident.resolution}` : ', open'}` : 'none')}</td><td>${esc(x.reverted ? `reverted ${x.reverted.at}` : 'not reverted')}</td></tr>`,
    )
    .join('');
  return `<h3>Does the cluster match what was approved</h3><table>
${row('Approved desired state', p.approvedDigest ?? 'not recorded at merge')}
${row('Applied desired state', p.appliedDigest ?? 'none')}
${row('Live state at sync', p.liveDigestAtSync ?? 'none')}
${row('Verdict', `${p.verdict}${p.reasons.length ? `: ${p.reasons.join('; ')}` : ''}`, p.verdict !== 'consistent')}
${row('Verifications since', `${p.verifications.length}${p.lastVerifiedEqualAt ? `, last found equal ${p.lastVerifiedEqualAt}` : ''}`)}
</table>
${drifts ? `<table><tr><th>Drift</th><th>Time</th><th>Object</th><th>Changed by</th><th>Incident</th><th>Resolution</th></tr>${drifts}</table>` : '<p>No drift recorded while this deployment was live.</p>'}`;
}

function row(label: string, value: string, bad = false): string {
  return `<tr><th>${esc(label)}</th><td${bad ? ' class="fail"' : ''}>${esc(value)}</td></tr>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
