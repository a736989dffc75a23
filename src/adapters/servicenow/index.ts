import { ChangeError } from '../../change/errors.ts';
import {
  changeStateCodes,
  isAllowedTransition,
  type ChangeApproval,
  type ChangeRecord,
  type ChangeState,
  type ChangeSystem,
  type ChangeType,
  type EmergencyDetails,
  type OpenChangeRequest,
  type TransitionRequest,
} from '../../domain/change-system.ts';
import { ServiceNowClient, type ServiceNowClientOptions } from './client.ts';
import { changeRequestBody, emergencyFields, toChangeRecord } from './mapping.ts';
import { listResultSchema, singleResultSchema, fieldValue, type SnRecord } from './schema.ts';

export { servicenowCredentialsFromEnv, type ServiceNowCredentials } from './client.ts';
export { ServiceNowIncidentSink } from './incidents.ts';
export { compareWithLedger, reconcileChangeRecords, type ChangeRecordFinding } from './findings.ts';

export interface ServiceNowChangeSystemOptions extends ServiceNowClientOptions {
  /** Template for standard (pre-approved) changes: `POST /api/sn_chg_rest/change/standard/<id>`. */
  standardTemplate?: string;
  assignmentGroup?: string;
}

const TABLE = '/api/now/table/change_request';

/**
 * The connected-mode change system: ServiceNow change requests through the Change API (normal,
 * emergency, standard from a template) and the Table API (reads, state moves, approvals in
 * sysapproval_approver). State moves follow the same model as the native system, with the same
 * numeric codes. An outage is an UpstreamError; the change path takes break-glass on it and never
 * reads it as an approval.
 */
export class ServiceNowChangeSystem implements ChangeSystem {
  readonly name = 'servicenow';
  private readonly client: ServiceNowClient;

  constructor(private readonly options: ServiceNowChangeSystemOptions) {
    this.client = new ServiceNowClient(options);
  }

  async open(request: OpenChangeRequest): Promise<ChangeRecord> {
    const body = changeRequestBody(request);
    if (this.options.assignmentGroup) body.assignment_group = this.options.assignmentGroup;
    const created = await this.client.call(singleResultSchema, {
      method: 'POST',
      path: this.changeApiPath(request.type),
      body,
    });
    return this.get(fieldValue(created.result, 'number'));
  }

  async get(number: string): Promise<ChangeRecord> {
    const record = await this.findOne(`number=${number}`);
    if (!record) throw new ChangeError('UNKNOWN_CHANGE', `no change ${number} in ServiceNow`);
    return this.withApprovals(record);
  }

  async findByProposal(proposal: string): Promise<ChangeRecord | undefined> {
    const record = await this.findOne(
      `correlation_id=proposal:${proposal}^ORDERBYDESCsys_created_on`,
    );
    return record && this.withApprovals(record);
  }

  async list(
    filter: { state?: ChangeState; type?: ChangeType; env?: string } = {},
  ): Promise<ChangeRecord[]> {
    const clauses = ['correlation_idSTARTSWITHproposal:'];
    if (filter.state) clauses.push(`state=${changeStateCodes[filter.state]}`);
    if (filter.type) clauses.push(`type=${filter.type}`);
    if (filter.env) clauses.push(`u_environment=${filter.env}`);
    const records = await this.query(TABLE, `${clauses.join('^')}^ORDERBYnumber`);
    return Promise.all(records.map((record) => this.withApprovals(record)));
  }

  async recordApproval(number: string, approval: ChangeApproval): Promise<ChangeRecord> {
    const change = await this.get(number);
    await this.client.call(singleResultSchema, {
      method: 'POST',
      path: '/api/now/table/sysapproval_approver',
      body: {
        sysapproval: change.sysId,
        approver: approval.approver,
        state: approval.state,
        comments: approval.comments ?? '',
        u_role: approval.role,
      },
    });
    return this.get(number);
  }

  async transition(
    number: string,
    to: ChangeState,
    request: TransitionRequest = {},
  ): Promise<ChangeRecord> {
    const change = await this.get(number);
    if (!isAllowedTransition(change.type, change.state, to)) {
      throw new ChangeError(
        'INVALID_TRANSITION',
        `change ${number} (${change.type}) cannot move from ${change.state} to ${to}`,
      );
    }
    return this.update(change, {
      state: String(changeStateCodes[to]),
      ...(request.closeCode ? { close_code: request.closeCode } : {}),
      ...(request.closeNotes ? { close_notes: request.closeNotes } : {}),
      ...(request.incident ? { u_incident: request.incident } : {}),
      ...(request.deployment ? { u_deployment: request.deployment } : {}),
      ...(request.reason ? { work_notes: request.reason } : {}),
    });
  }

  async schedule(number: string, window: { start: string; end: string }): Promise<ChangeRecord> {
    return this.update(await this.get(number), { start_date: window.start, end_date: window.end });
  }

  async recordRetroReview(
    number: string,
    review: NonNullable<EmergencyDetails['review']>,
  ): Promise<ChangeRecord> {
    const change = await this.get(number);
    if (!change.emergency)
      throw new ChangeError('NOT_EMERGENCY', `change ${number} is not an emergency change`);
    return this.update(change, emergencyFields({ ...change.emergency, review }));
  }

  private changeApiPath(type: ChangeType): string {
    if (type !== 'standard') return `/api/sn_chg_rest/change/${type}`;
    if (!this.options.standardTemplate) {
      throw new ChangeError(
        'CHANGE_SYSTEM_UNAVAILABLE',
        'set adapters.servicenow.standardTemplate to open standard changes',
      );
    }
    return `/api/sn_chg_rest/change/standard/${encodeURIComponent(this.options.standardTemplate)}`;
  }

  private async update(
    change: ChangeRecord,
    fields: Record<string, string>,
  ): Promise<ChangeRecord> {
    // Setting the same fields twice leaves the same record, so an outage may be retried.
    await this.client.call(singleResultSchema, {
      method: 'PATCH',
      path: `${TABLE}/${change.sysId}`,
      body: fields,
      retry: true,
    });
    return this.get(change.number);
  }

  private async findOne(query: string): Promise<SnRecord | undefined> {
    const [record] = await this.query(TABLE, query, 1);
    return record;
  }

  private async query(path: string, query: string, limit = 1000): Promise<SnRecord[]> {
    const answer = await this.client.call(listResultSchema, {
      method: 'GET',
      path,
      query: { sysparm_query: query, sysparm_limit: limit, sysparm_display_value: 'all' },
    });
    return answer.result;
  }

  private async withApprovals(record: SnRecord): Promise<ChangeRecord> {
    const sysId = fieldValue(record, 'sys_id');
    const approvals = await this.query(
      '/api/now/table/sysapproval_approver',
      `sysapproval=${sysId}^ORDERBYsys_updated_on`,
    );
    return toChangeRecord(record, approvals);
  }
}
