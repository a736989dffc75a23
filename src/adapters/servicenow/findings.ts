import type { ChangeRecord, ChangeSystem } from '../../domain/change-system.ts';
import { evidenceOf } from '../../domain/evidence.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';
import type { Ledger } from '../../ledger/ledger.ts';

/** A difference between a change record as it is now and as the ledger recorded it. */
export interface ChangeRecordFinding {
  change: string;
  field: string;
  ledger: string;
  live: string;
  /** The ledger entry holding the snapshot that stands; absent when nothing was recorded. */
  evidence?: number;
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
  const note = (field: string, ledger: string, current: string, evidence?: number) => {
    if (ledger !== current) {
      findings.push({
        change: live.number,
        field,
        ledger,
        live: current,
        ...(evidence === undefined ? {} : { evidence }),
        message: `${field} of ${live.number} was changed outside changeproof: ledger has '${ledger}', ServiceNow has '${current}'`,
      });
    }
  };
  const mine = <K extends 'change.opened' | 'change.state' | 'change.approved'>(kind: K) =>
    entries.flatMap((entry) => {
      const payload = evidenceOf(entry, kind);
      return payload?.change === live.number ? [{ seq: entry.seq, payload }] : [];
    });

  const opened = mine('change.opened')[0];
  if (opened) {
    const { payload: p, seq } = opened;
    note('type', p.type, live.type, seq);
    note('proposal', p.proposal, live.proposal, seq);
    note('service', p.service, live.service, seq);
    note('env', p.env, live.env, seq);
    note('artifact', p.artifact ?? '', live.evidence.artifact ?? '', seq);
    note('sbomDigest', p.sbomDigest ?? '', live.evidence.sbomDigest ?? '', seq);
    note('signer', p.signer ?? '', live.evidence.signer ?? '', seq);
    note('scanVerdict', p.scanVerdict ?? '', live.evidence.scanVerdict ?? '', seq);
  }

  const lastState = mine('change.state').at(-1);
  if (lastState) note('state', lastState.payload.to, live.state, lastState.seq);

  const approvals = mine('change.approved');
  const recorded = approvals.map((a) => a.payload.approver).sort();
  const approvedLive = live.approvals
    .filter((a) => a.state === 'approved')
    .map((a) => a.approver)
    .sort();
  note('approvals', recorded.join(','), approvedLive.join(','), approvals.at(-1)?.seq);
  return findings;
}

/**
 * Reads each change record the ledger knows of (or only `numbers`) from the change system and
 * compares it with the ledger's snapshot. Nothing is written: the ledger stands as recorded, and
 * the differences are the caller's findings to report.
 */
export async function reconcileChangeRecords(
  changeSystem: Pick<ChangeSystem, 'get'>,
  ledger: Ledger,
  numbers: string[] = [],
): Promise<{ checked: string[]; findings: ChangeRecordFinding[] }> {
  const entries = (
    await Promise.all(
      (['change.opened', 'change.state', 'change.approved'] as const).map((kind) =>
        ledger.list({ kind }),
      ),
    )
  )
    .flat()
    .sort((a, b) => a.seq - b.seq);
  const known = entries.flatMap((e) => evidenceOf(e, 'change.opened')?.change ?? []);
  const checked = numbers.length > 0 ? numbers : [...new Set(known)];
  const findings: ChangeRecordFinding[] = [];
  for (const number of checked) {
    findings.push(...compareWithLedger(await changeSystem.get(number), entries));
  }
  return { checked, findings };
}
