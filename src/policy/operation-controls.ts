import { digestMismatches } from '../audit/proof.ts';
import type { AuditedDeployment } from '../audit/types.ts';
import type { ControlOutcome } from './catalogue.ts';
import { outcome, type ControlContext } from './context.ts';

/** CP-11 to CP-15: applications over time, drift events, the period, and delivery runs. */
export function evaluateOperationControls(context: ControlContext): ControlOutcome[] {
  return [
    ...liveEqualsApproved(context.deployments),
    ...driftAnswered(context),
    ...completePopulation(context),
    ...evidenceIntact(context),
    ...leastPrivilege(context),
  ];
}

function liveEqualsApproved(deployments: AuditedDeployment[]): ControlOutcome[] {
  const byApp = new Map<string, AuditedDeployment[]>();
  for (const d of deployments.filter((d) => d.source === 'cd-plane')) {
    if (!byApp.has(d.app)) byApp.set(d.app, []);
    byApp.get(d.app)!.push(d);
  }
  return [...byApp.entries()].map(([app, list]) => {
    const subject = `application:${app}`;
    const verifications = list.flatMap((d) => d.proof.verifications);
    const seqs = [...list.map((d) => d.seq), ...verifications.map((v) => v.seq)];
    const unexplained = list.flatMap((d) =>
      d.proof.verifications
        .filter((v) => !v.equal && !d.proof.drifts.some((drift) => drift.at <= v.at))
        .map((v) => v.seq),
    );
    // Approved = applied = verified live: a digest that breaks the chain fails before the rest.
    const broken = list.filter((d) => digestMismatches(d.proof).length > 0);
    if (broken.length > 0) {
      const reason = broken.map((d) => `${d.id}: ${digestMismatches(d.proof).join('; ')}`);
      const merges = broken.flatMap((d) => (d.approval.proposal ? [d.approval.proposal.seq] : []));
      return outcome('CP-11', subject, 'fail', reason.join('; '), [...merges, ...seqs]);
    }
    if (verifications.length === 0) {
      return outcome('CP-11', subject, 'fail', 'no verification was sealed in the period', seqs);
    }
    return unexplained.length > 0
      ? outcome(
          'CP-11',
          subject,
          'fail',
          `verification(s) ${unexplained.join(', ')} found live ≠ desired with no drift recorded`,
          seqs,
        )
      : outcome(
          'CP-11',
          subject,
          'pass',
          `${verifications.length} verification(s), every difference a recorded drift`,
          seqs,
        );
  });
}

function driftAnswered(context: ControlContext): ControlOutcome[] {
  return context.deployments.flatMap((d) =>
    d.proof.drifts.map((drift) => {
      const subject = `drift:${drift.seq}`;
      const deadline = Date.parse(drift.at) + context.driftResponseWindowMs;
      const seqs = [drift.seq, drift.incident?.seq, drift.reverted?.seq].filter(
        (s) => s !== undefined,
      );
      const problems: string[] = [];
      if (!drift.incident) problems.push('no incident was opened');
      else if (Date.parse(drift.incident.openedAt) > deadline)
        problems.push('the incident was opened late');
      const answeredAt = drift.reverted?.at ?? d.proof.supersededAt;
      if (!answeredAt) {
        if (deadline < context.now.getTime())
          problems.push('neither reverted nor accepted through a change');
      } else if (Date.parse(answeredAt) > deadline) {
        problems.push(`answered at ${answeredAt}, after the response window`);
      }
      return problems.length > 0
        ? outcome(
            'CP-12',
            subject,
            'fail',
            `drift on ${drift.object} by ${drift.fieldManager}: ${problems.join('; ')}`,
            seqs,
          )
        : outcome(
            'CP-12',
            subject,
            'pass',
            `incident ${drift.incident?.id}; ${drift.reverted ? 'reverted' : 'accepted through a change'}`,
            seqs,
          );
    }),
  );
}

function periodSubject(context: ControlContext): string {
  return `period:${context.range.label}`;
}

function completePopulation(context: ControlContext): ControlOutcome[] {
  const subject = periodSubject(context);
  const failures = context.deployments.flatMap((d) => {
    if (d.source === 'cluster') {
      return [
        outcome(
          'CP-13',
          subject,
          'fail',
          `${d.app} changed on the cluster by ${d.initiator} with no deployment record (${d.id})`,
          d.evidence,
        ),
      ];
    }
    if (!d.approval.change && !d.approval.proposal) {
      return [
        outcome(
          'CP-13',
          subject,
          'fail',
          `deployment ${d.id} has no change or proposal in the ledger`,
          [d.seq],
        ),
      ];
    }
    return [];
  });
  if (failures.length > 0) return failures;
  return [
    outcome(
      'CP-13',
      subject,
      'pass',
      `${context.deployments.length} deployment(s), each with its change`,
      [],
    ),
  ];
}

function evidenceIntact(context: ControlContext): ControlOutcome[] {
  const subject = periodSubject(context);
  const { ledger } = context;
  if (ledger.ok) {
    return [
      outcome(
        'CP-14',
        subject,
        'pass',
        `${ledger.entries} entries and ${ledger.checkpoints} checkpoint(s) verify`,
        [],
      ),
    ];
  }
  return ledger.problems.map((problem) =>
    outcome(
      'CP-14',
      subject,
      'fail',
      `${problem.code}: ${problem.message}`,
      problem.seq ? [problem.seq] : [],
    ),
  );
}

const MAX_LEASE_SECONDS = 3600;
/** A run revokes its leases as it finishes; a minute covers the last steps' own bookkeeping. */
const REVOKE_SLACK_MS = 60_000;

function leastPrivilege(context: ControlContext): ControlOutcome[] {
  const runs = new Map<string, number>();
  for (const image of context.deployments.flatMap((d) => d.artifact.images)) {
    if (image.run && image.seq !== undefined) runs.set(image.run, image.seq);
  }
  return [...runs.entries()].map(([run, seq]) => {
    const subject = `delivery-run:${run}`;
    const delivery = context.index.entry(seq)!;
    const payload = delivery.payload as { leases?: string[]; clusterCredentialsHeld?: boolean };
    const problems: string[] = [];
    const seqs = [seq];
    if (payload.clusterCredentialsHeld !== false)
      problems.push('the run held a cluster credential');
    for (const lease of payload.leases ?? []) {
      const opened = context.index.first('broker.lease.opened', 'id', lease);
      const revoked = context.index.first('broker.lease.revoked', 'id', lease);
      if (opened) seqs.push(opened.seq);
      if (revoked) seqs.push(revoked.seq);
      if (opened && opened.payload.ttlSeconds > MAX_LEASE_SECONDS)
        problems.push(`lease ${lease} lasted ${opened.payload.ttlSeconds}s`);
      if (opened?.payload.scopes.some((s) => /cluster|kube/.test(s)))
        problems.push(`lease ${lease} granted cluster access`);
      if (!revoked) problems.push(`lease ${lease} has no revocation recorded`);
      else if (Date.parse(revoked.time) > Date.parse(delivery.time) + REVOKE_SLACK_MS) {
        problems.push(`lease ${lease} was revoked at ${revoked.time}, after the run ended`);
      }
    }
    return problems.length > 0
      ? outcome('CP-15', subject, 'fail', problems.join('; '), seqs)
      : outcome(
          'CP-15',
          subject,
          'pass',
          `no cluster credential; ${(payload.leases ?? []).length} lease(s), all revoked`,
          seqs,
        );
  });
}
