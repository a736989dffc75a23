import type { ChangeRecord } from '../../domain/change-system.ts';
import { evidenceOf } from '../../domain/evidence.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';

/** A difference between a change record as it is now and as the ledger recorded it. */
export interface ChangeRecordFinding {
  change: string;
  field: string;
  ledger: string;
  live: string;
  message: string;
}

/**
 * Compares a live ServiceNow record with what changeproof recorded when it happened. Records
 * can be edited in ServiceNow afterwards (an approval added, an artifact changed, a state moved by
 * hand); the ledger's snapshot stands, and each difference is returned as a finding.
 */
export function compareWithLedger(
  live: ChangeRecord,
  entries: LedgerEntry[],
): ChangeRecordFinding[] {
  const findings: ChangeRecordFinding[] = [];
  const note = (field: string, ledger: string, current: string) => {
    if (ledger !== current) {
      findings.push({
        change: live.number,
        field,
        ledger,
        live: current,
        message: `${field} of ${live.number} was changed outside changeproof: ledger has '${ledger}', ServiceNow has '${current}'`,
      });
    }
  };

  const opened = entries
    .map((e) => evidenceOf(e, 'change.opened'))
    .find((p) => p?.change === live.number);
  if (opened) {
    note('type', opened.type, live.type);
    note('proposal', opened.proposal, live.proposal);
    note('service', opened.service, live.service);
    note('env', opened.env, live.env);
    note('artifact', opened.artifact ?? '', live.evidence.artifact ?? '');
    note('sbomDigest', opened.sbomDigest ?? '', live.evidence.sbomDigest ?? '');
    note('signer', opened.signer ?? '', live.evidence.signer ?? '');
    note('scanVerdict', opened.scanVerdict ?? '', live.evidence.scanVerdict ?? '');
  }

  const states = entries
    .map((e) => evidenceOf(e, 'change.state'))
    .filter((p) => p?.change === live.number);
  const lastState = states.at(-1)?.to;
  if (lastState) note('state', lastState, live.state);

  const recorded = entries
    .map((e) => evidenceOf(e, 'change.approved'))
    .filter((p) => p?.change === live.number)
    .map((p) => p!.approver)
    .sort();
  const approvedLive = live.approvals
    .filter((a) => a.state === 'approved')
    .map((a) => a.approver)
    .sort();
  note('approvals', recorded.join(','), approvedLive.join(','));
  return findings;
}
