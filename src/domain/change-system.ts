/**
 * The change-management port. Local mode: native change records in the workspace database.
 * Connected mode: ServiceNow. The native model is ServiceNow's, field for field, so connected
 * mode maps without loss:
 *
 * | ChangeRecord            | ServiceNow change_request                                      |
 * |-------------------------|----------------------------------------------------------------|
 * | number, sysId           | number, sys_id                                                 |
 * | type                    | type (standard, normal, emergency)                             |
 * | state / stateCode       | state (the numeric code; the name is its display value)        |
 * | shortDescription, desc. | short_description, description                                 |
 * | proposal                | correlation_id (`proposal:<id>`), correlation_display          |
 * | service, env            | cmdb_ci (the application service), u_environment               |
 * | evidence.*              | u_artifact_digest, u_sbom_digest, u_signer, u_scan_verdict     |
 * | plannedStart/End        | start_date, end_date                                           |
 * | cabRequired             | cab_required                                                   |
 * | approvals[]             | sysapproval_approver rows (approver, state, comments, sys_updated_on) |
 * | closeCode, closeNotes   | close_code (successful, successful_issues, unsuccessful), close_notes |
 * | incident                | the incident's number, linked through rfc / caused_by          |
 * | emergency.reason        | justification                                                  |
 * | emergency.review        | review_date, review_comments, review_status                    |
 * | retroactive             | unauthorized (created after the fact)                          |
 */
export const changeStateCodes = {
  New: -5,
  Assess: -4,
  Authorize: -3,
  Scheduled: -2,
  Implement: -1,
  Review: 0,
  Closed: 3,
  Canceled: 4,
} as const;

export type ChangeState = keyof typeof changeStateCodes;
export type ChangeType = 'standard' | 'normal' | 'emergency';
export type CloseCode = 'successful' | 'successful_issues' | 'unsuccessful';

/** What the CI plane knows about the artifact a proposal deploys. */
export interface ChangeEvidence {
  /** `<ref>@sha256:…` or `sha256:…` of the image. */
  artifact?: string;
  sbomDigest?: string;
  /** Key id or identity that signed the image. */
  signer?: string;
  scanVerdict?: string;
}

export interface ChangeApproval {
  approver: string;
  /** The role the approver acted in (cab, approver, oncall). */
  role: string;
  state: 'approved' | 'rejected';
  at: string;
  comments?: string;
}

export interface EmergencyDetails {
  declaredBy: string;
  reason: string;
  /** The retroactive review is due by this time (ISO 8601). */
  reviewDueBy: string;
  /** Merged without a change record because the change system was unreachable. */
  breakGlass: boolean;
  /**
   * Set when the on-call engineer who declared it wrote or last pushed the change and broke glass
   * on it: the proposal head it was declared on. The override covers that commit alone.
   */
  selfApproval?: { commit: string };
  review?: { reviewer: string; outcome: 'accepted' | 'rejected'; notes?: string; at: string };
}

export interface ChangeRecord {
  number: string;
  sysId: string;
  type: ChangeType;
  state: ChangeState;
  stateCode: number;
  shortDescription: string;
  description: string;
  proposal: string;
  service: string;
  env: string;
  evidence: ChangeEvidence;
  cabRequired: boolean;
  plannedStart?: string;
  plannedEnd?: string;
  approvals: ChangeApproval[];
  closeCode?: CloseCode;
  closeNotes?: string;
  incident?: string;
  deployment?: string;
  emergency?: EmergencyDetails;
  /** Created after the merge because the change system was unreachable (break-glass). */
  retroactive: boolean;
  openedAt: string;
  updatedAt: string;
}

export interface OpenChangeRequest {
  type: ChangeType;
  proposal: string;
  service: string;
  env: string;
  shortDescription: string;
  description: string;
  evidence?: ChangeEvidence;
  cabRequired: boolean;
  plannedStart?: string;
  plannedEnd?: string;
  emergency?: EmergencyDetails;
  retroactive?: boolean;
  /** The state to open in; New unless recorded after the fact. */
  state?: ChangeState;
}

export interface TransitionRequest {
  reason?: string;
  closeCode?: CloseCode;
  closeNotes?: string;
  incident?: string;
  deployment?: string;
}

/**
 * A change system. Every call may fail with an UpstreamError when the system is unreachable; the
 * caller never reads that as an approval.
 */
export interface ChangeSystem {
  readonly name: string;
  open(request: OpenChangeRequest): Promise<ChangeRecord>;
  get(number: string): Promise<ChangeRecord>;
  /** The open or latest change for a proposal, if any. */
  findByProposal(proposal: string): Promise<ChangeRecord | undefined>;
  list(filter?: { state?: ChangeState; type?: ChangeType; env?: string }): Promise<ChangeRecord[]>;
  recordApproval(number: string, approval: ChangeApproval): Promise<ChangeRecord>;
  /** Moves one step along the state model; refuses a step the model does not allow. */
  transition(number: string, to: ChangeState, request?: TransitionRequest): Promise<ChangeRecord>;
  schedule(number: string, window: { start: string; end: string }): Promise<ChangeRecord>;
  recordRetroReview(
    number: string,
    review: NonNullable<EmergencyDetails['review']>,
  ): Promise<ChangeRecord>;
}

/**
 * The state model, as ServiceNow's change model moves: normal changes pass every state, emergency
 * changes skip Assess, standard (pre-approved) changes skip Assess and Authorize.
 */
const PATHS: Record<ChangeType, ChangeState[]> = {
  normal: ['New', 'Assess', 'Authorize', 'Scheduled', 'Implement', 'Review', 'Closed'],
  emergency: ['New', 'Authorize', 'Scheduled', 'Implement', 'Review', 'Closed'],
  standard: ['New', 'Scheduled', 'Implement', 'Review', 'Closed'],
};

/** Whether a change of `type` may move from `from` to `to` in one step. */
export function isAllowedTransition(type: ChangeType, from: ChangeState, to: ChangeState): boolean {
  if (from === 'Closed' || from === 'Canceled') return false;
  if (to === 'Canceled') return true;
  const path = PATHS[type];
  return path.indexOf(to) === path.indexOf(from) + 1 && path.includes(from);
}

/** The steps from `from` up to `to` along the type's path (empty when already there or past). */
export function stepsTo(type: ChangeType, from: ChangeState, to: ChangeState): ChangeState[] {
  const path = PATHS[type];
  const start = path.indexOf(from);
  const end = path.indexOf(to);
  if (start < 0 || end < 0 || end <= start) return [];
  return path.slice(start + 1, end + 1);
}

export function isClosed(change: Pick<ChangeRecord, 'state'>): boolean {
  return change.state === 'Closed' || change.state === 'Canceled';
}
