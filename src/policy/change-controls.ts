import type { AuditedDeployment } from '../audit/types.ts';
import { durationMs } from '../config/schema.ts';
import type { ControlOutcome } from './catalogue.ts';
import { isProduction, outcome, type ControlContext } from './context.ts';

/** One change as the change controls see it: the first deployment that carried it. */
export interface AuditedChange {
  subject: string;
  deployment: AuditedDeployment;
}

/** The distinct changes behind the deployments: by change record, else by proposal. */
export function changesOf(deployments: AuditedDeployment[]): AuditedChange[] {
  const changes = new Map<string, AuditedChange>();
  for (const deployment of deployments) {
    const { change, proposal } = deployment.approval;
    const subject = change
      ? `change:${change.id}`
      : proposal
        ? `proposal:${proposal.id}`
        : undefined;
    if (subject && !changes.has(subject)) changes.set(subject, { subject, deployment });
  }
  return [...changes.values()];
}

/** CP-02 to CP-05, CP-09 and CP-10: evaluated on each change, its proposal and merge commit. */
export function evaluateChangeControls(context: ControlContext): ControlOutcome[] {
  return changesOf(context.deployments).flatMap(({ subject, deployment }) => [
    independentApproval(subject, deployment),
    approvalCoversMerge(subject, deployment),
    cabForProduction(subject, deployment, context),
    emergencyReviewed(subject, deployment, context),
    routineMeansRoutine(deployment, context),
    signedConfigHistory(deployment),
  ]);
}

function independentApproval(subject: string, d: AuditedDeployment): ControlOutcome {
  const { separationOfDuties, approvals, proposal, breakGlass } = d.approval;
  const seqs = [proposal?.seq ?? d.seq, ...approvals.map((a) => a.seq)];
  if (separationOfDuties.verdict === 'fail') {
    const refused = proposal?.refusals.filter((r) => r.code === 'SELF_APPROVAL') ?? [];
    const forced =
      breakGlass && refused.length > 0 ? ', forced through break-glass after being refused' : '';
    return outcome('CP-02', subject, 'fail', `${separationOfDuties.reasons.join('; ')}${forced}`, [
      ...seqs,
      ...refused.map((r) => r.seq),
      ...(breakGlass ? [breakGlass.seq] : []),
    ]);
  }
  if (separationOfDuties.verdict === 'no-evidence') {
    return outcome('CP-02', subject, 'fail', separationOfDuties.reasons.join('; '), seqs);
  }
  return outcome(
    'CP-02',
    subject,
    'pass',
    `approvers ${approvals.map((a) => a.identity).join(', ')} differ from author ${proposal?.author} and last pusher ${proposal?.lastPusher}`,
    seqs,
  );
}

function approvalCoversMerge(subject: string, d: AuditedDeployment): ControlOutcome {
  const proposal = d.approval.proposal;
  if (!proposal)
    return outcome('CP-03', subject, 'fail', 'no proposal links to this change', [d.seq]);
  const reviews = d.approval.approvals.filter((a) => a.source === 'review');
  const onHead = reviews.filter((a) => a.commit === proposal.headCommit);
  const seqs = [proposal.seq, ...reviews.map((a) => a.seq)];
  return onHead.length > 0
    ? outcome(
        'CP-03',
        subject,
        'pass',
        `approved on merged head ${proposal.headCommit.slice(0, 12)}`,
        seqs,
      )
    : outcome(
        'CP-03',
        subject,
        'fail',
        `no approval on the merged head ${proposal.headCommit.slice(0, 12)}`,
        seqs,
      );
}

function cabForProduction(
  subject: string,
  d: AuditedDeployment,
  context: ControlContext,
): ControlOutcome {
  const type =
    d.approval.change?.type ?? (d.approval.proposal?.path === 'normal' ? 'normal' : undefined);
  if (type !== 'normal' || !isProduction(context.config, d.env)) {
    return outcome(
      'CP-04',
      subject,
      'not-applicable',
      `not a normal production change (${type ?? 'no type'})`,
      [],
    );
  }
  const cab = d.approval.approvals.filter((a) => a.roles.includes('cab'));
  const seqs = [d.approval.change?.seq ?? d.seq, ...d.approval.approvals.map((a) => a.seq)];
  return cab.length > 0
    ? outcome(
        'CP-04',
        subject,
        'pass',
        `CAB approval by ${cab.map((a) => a.identity).join(', ')}`,
        seqs,
      )
    : outcome('CP-04', subject, 'fail', 'normal production change without a CAB approval', seqs);
}

function emergencyReviewed(
  subject: string,
  d: AuditedDeployment,
  context: ControlContext,
): ControlOutcome {
  const { change, proposal, breakGlass, approvals } = d.approval;
  const emergency =
    change?.type === 'emergency' || proposal?.path === 'emergency' || breakGlass !== undefined;
  if (!emergency) return outcome('CP-05', subject, 'not-applicable', 'not an emergency change', []);
  const dueBy = change?.emergency?.reviewDueBy ?? defaultDueBy(d, context);
  const onCall = new Set([
    ...approvals.map((a) => a.identity),
    ...(change?.emergency ? [change.emergency.declaredBy] : []),
    ...(breakGlass ? [breakGlass.actor] : []),
  ]);
  const seqs = [
    change?.emergency?.seq ?? breakGlass?.seq ?? d.seq,
    ...(change ? [change.seq] : []),
  ];
  const review = change?.retroReview;
  if (!review) {
    return Date.parse(dueBy) < context.now.getTime()
      ? outcome('CP-05', subject, 'fail', `retroactive review overdue since ${dueBy}`, seqs)
      : outcome('CP-05', subject, 'pending', `retroactive review due by ${dueBy}`, seqs);
  }
  const all = [...seqs, review.seq];
  if (onCall.has(review.reviewer)) {
    return outcome(
      'CP-05',
      subject,
      'fail',
      `retroactive review by ${review.reviewer}, who approved or declared it`,
      all,
    );
  }
  if (review.at > new Date(dueBy).toISOString()) {
    return outcome(
      'CP-05',
      subject,
      'fail',
      `retroactive review at ${review.at}, after it was due by ${dueBy}`,
      all,
    );
  }
  return outcome(
    'CP-05',
    subject,
    'pass',
    `reviewed by ${review.reviewer} (${review.outcome}) by ${dueBy}`,
    all,
  );
}

function defaultDueBy(d: AuditedDeployment, context: ControlContext): string {
  const env = context.config.environments.find((e) => e.name === d.env);
  const window = durationMs(env?.governance.emergencyReviewWindow ?? '72h');
  const from = d.approval.proposal?.mergedAt || d.deployedAt;
  return new Date(Date.parse(from) + window).toISOString();
}

const IMAGE_REFERENCE_PATH = /^apps\/[^/]+\/overlays\/[^/]+\/kustomization\.ya?ml$/;

function routineMeansRoutine(d: AuditedDeployment, context: ControlContext): ControlOutcome {
  const proposal = d.approval.proposal;
  const subject = `proposal:${proposal?.id ?? 'none'}`;
  if (!proposal || proposal.routine === undefined) {
    return outcome(
      'CP-09',
      subject,
      'not-applicable',
      'no proposal record says whether it was routine',
      [],
    );
  }
  if (proposal.routine) {
    const other = (proposal.changedPaths ?? []).filter((path) => !IMAGE_REFERENCE_PATH.test(path));
    return other.length > 0
      ? outcome('CP-09', subject, 'fail', `routine proposal changed ${other.join(', ')}`, [
          proposal.seq,
        ])
      : outcome('CP-09', subject, 'pass', 'routine proposal changed image references only', [
          proposal.seq,
        ]);
  }
  const env = context.config.environments.find((e) => e.name === d.env);
  const needed = env?.governance.nonRoutineApprovals ?? 2;
  const reviewers = new Set(
    d.approval.approvals.filter((a) => a.source === 'review').map((a) => a.identity),
  );
  const seqs = [proposal.seq, ...d.approval.approvals.map((a) => a.seq)];
  return reviewers.size >= needed
    ? outcome(
        'CP-09',
        subject,
        'pass',
        `non-routine proposal reviewed by ${reviewers.size} approvers`,
        seqs,
      )
    : outcome(
        'CP-09',
        subject,
        'fail',
        `non-routine proposal had ${reviewers.size} of ${needed} approvals`,
        seqs,
      );
}

function signedConfigHistory(d: AuditedDeployment): ControlOutcome {
  const proposal = d.approval.proposal;
  const commit = proposal?.mergeCommit || d.configCommit || 'unknown';
  const subject = `config-commit:${commit}`;
  if (!proposal)
    return outcome('CP-10', subject, 'fail', 'no merge record for this config commit', [d.seq]);
  return proposal.commitSignedBy
    ? outcome('CP-10', subject, 'pass', `signed by ${proposal.commitSignedBy}`, [proposal.seq])
    : outcome('CP-10', subject, 'fail', 'the merge record carries no commit signature', [
        proposal.seq,
      ]);
}
