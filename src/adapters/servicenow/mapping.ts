import {
  changeStateCodes,
  type ChangeApproval,
  type ChangeRecord,
  type ChangeState,
  type ChangeType,
  type EmergencyDetails,
  type OpenChangeRequest,
} from '../../domain/change-system.ts';
import { displayValue, fieldValue, type SnRecord } from './schema.ts';

const stateByCode = new Map<number, ChangeState>(
  Object.entries(changeStateCodes).map(([name, code]) => [code, name as ChangeState]),
);

/** The change_request fields changeproof writes when it opens a change. */
export function changeRequestBody(request: OpenChangeRequest): Record<string, string> {
  const evidence = request.evidence ?? {};
  const body: Record<string, string> = {
    short_description: request.shortDescription,
    description: describeWithEvidence(request),
    correlation_id: `proposal:${request.proposal}`,
    correlation_display: `changeproof proposal ${request.proposal}`,
    cmdb_ci: request.service,
    u_environment: request.env,
    u_artifact_digest: evidence.artifact ?? '',
    u_sbom_digest: evidence.sbomDigest ?? '',
    u_signer: evidence.signer ?? '',
    u_scan_verdict: evidence.scanVerdict ?? '',
    cab_required: String(request.cabRequired),
    unauthorized: String(request.retroactive ?? false),
  };
  if (request.plannedStart) body.start_date = request.plannedStart;
  if (request.plannedEnd) body.end_date = request.plannedEnd;
  if (request.state) body.state = String(changeStateCodes[request.state]);
  if (request.emergency) Object.assign(body, emergencyFields(request.emergency));
  return body;
}

/** The description a CAB reads: the proposal's text, then the artifact's evidence line by line. */
function describeWithEvidence(request: OpenChangeRequest): string {
  const evidence = request.evidence ?? {};
  const lines = [
    ['Artifact', evidence.artifact],
    ['SBOM', evidence.sbomDigest],
    ['Signed by', evidence.signer],
    ['Scan verdict', evidence.scanVerdict],
  ].filter(([, value]) => value);
  if (lines.length === 0) return request.description;
  return `${request.description}\n\n${lines.map(([label, value]) => `${label}: ${value}`).join('\n')}`;
}

export function emergencyFields(emergency: EmergencyDetails): Record<string, string> {
  const fields: Record<string, string> = {
    justification: emergency.reason,
    u_declared_by: emergency.declaredBy,
    u_review_due_by: emergency.reviewDueBy,
    u_break_glass: String(emergency.breakGlass),
  };
  if (emergency.selfApproval) fields.u_self_approved_commit = emergency.selfApproval.commit;
  if (emergency.review) {
    fields.review_date = emergency.review.at;
    fields.review_status = emergency.review.outcome;
    fields.review_comments = emergency.review.notes ?? '';
    fields.u_reviewer = emergency.review.reviewer;
  }
  return fields;
}

/** A change_request record and its sysapproval_approver rows in the port's terms. */
export function toChangeRecord(record: SnRecord, approvals: SnRecord[]): ChangeRecord {
  const value = (name: string) => fieldValue(record, name);
  const stateCode = Number(value('state'));
  const change: ChangeRecord = {
    number: value('number'),
    sysId: value('sys_id'),
    type: value('type') as ChangeType,
    state: stateByCode.get(stateCode) ?? 'New',
    stateCode,
    shortDescription: value('short_description'),
    description: value('description'),
    proposal: value('correlation_id').replace(/^proposal:/, ''),
    service: displayValue(record, 'cmdb_ci'),
    env: value('u_environment'),
    evidence: compact({
      artifact: value('u_artifact_digest'),
      sbomDigest: value('u_sbom_digest'),
      signer: value('u_signer'),
      scanVerdict: value('u_scan_verdict'),
    }),
    cabRequired: value('cab_required') === 'true',
    approvals: approvals.flatMap(toApproval),
    retroactive: value('unauthorized') === 'true',
    openedAt: value('opened_at') || value('sys_created_on'),
    updatedAt: value('sys_updated_on'),
  };
  Object.assign(
    change,
    compact({
      plannedStart: value('start_date'),
      plannedEnd: value('end_date'),
      closeCode: value('close_code'),
      closeNotes: value('close_notes'),
      incident: value('u_incident'),
      deployment: value('u_deployment'),
    }),
  );
  const emergency = toEmergency(record);
  if (emergency) change.emergency = emergency;
  return change;
}

function toApproval(row: SnRecord): ChangeApproval[] {
  const state = fieldValue(row, 'state');
  // Requested, not requested, cancelled … are not decisions.
  if (state !== 'approved' && state !== 'rejected') return [];
  const comments = fieldValue(row, 'comments');
  return [
    {
      approver: displayValue(row, 'approver'),
      role: fieldValue(row, 'u_role') || 'approver',
      state,
      at: fieldValue(row, 'sys_updated_on'),
      ...(comments ? { comments } : {}),
    },
  ];
}

function toEmergency(record: SnRecord): EmergencyDetails | undefined {
  const reason = fieldValue(record, 'justification');
  if (!reason) return undefined;
  const emergency: EmergencyDetails = {
    declaredBy: fieldValue(record, 'u_declared_by'),
    reason,
    reviewDueBy: fieldValue(record, 'u_review_due_by'),
    breakGlass: fieldValue(record, 'u_break_glass') === 'true',
  };
  const selfApproved = fieldValue(record, 'u_self_approved_commit');
  if (selfApproved) emergency.selfApproval = { commit: selfApproved };
  const outcome = fieldValue(record, 'review_status');
  if (outcome === 'accepted' || outcome === 'rejected') {
    const notes = fieldValue(record, 'review_comments');
    emergency.review = {
      reviewer: fieldValue(record, 'u_reviewer'),
      outcome,
      at: fieldValue(record, 'review_date'),
      ...(notes ? { notes } : {}),
    };
  }
  return emergency;
}

function compact<T extends Record<string, string>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '')) as Partial<T>;
}
