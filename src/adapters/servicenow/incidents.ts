import { recordEvidence } from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { unknownIncident, type IncidentSink } from '../../reconcile/ports.ts';
import { ServiceNowClient, type ServiceNowClientOptions } from './client.ts';
import { fieldValue, listResultSchema, singleResultSchema } from './schema.ts';

const TABLE = '/api/now/table/incident';
// ServiceNow's incident states: 6 Resolved.
const RESOLVED = '6';

/**
 * Incidents for drift and failed syncs as ServiceNow incidents, recorded in the ledger with their
 * ServiceNow number as they are opened and resolved. Drift is urgent (2), a failed sync more so (1).
 */
export class ServiceNowIncidentSink implements IncidentSink {
  private readonly client: ServiceNowClient;

  constructor(
    options: ServiceNowClientOptions & { assignmentGroup?: string },
    private readonly ledger: Ledger,
    private readonly actor = 'system:cd-engine',
  ) {
    this.client = new ServiceNowClient(options);
    this.assignmentGroup = options.assignmentGroup;
  }

  private readonly assignmentGroup?: string;

  async open(incident: {
    app: string;
    cause: 'drift' | 'sync-failure';
    summary: string;
    link: string;
  }): Promise<string> {
    const urgency = incident.cause === 'sync-failure' ? '1' : '2';
    const created = await this.client.call(singleResultSchema, {
      method: 'POST',
      path: TABLE,
      body: {
        short_description:
          `${incident.cause === 'drift' ? 'Drift' : 'Sync failed'} on ${incident.app}: ${incident.summary}`.slice(
            0,
            160,
          ),
        description: `${incident.summary}\n\nEvidence: ${incident.link}`,
        category: 'software',
        impact: '2',
        urgency,
        cmdb_ci: incident.app.split('/').at(-1) ?? incident.app,
        correlation_id: `app:${incident.app}`,
        ...(this.assignmentGroup ? { assignment_group: this.assignmentGroup } : {}),
      },
    });
    const number = fieldValue(created.result, 'number');
    await recordEvidence(this.ledger, 'incident.opened', `incident:${number}`, this.actor, {
      incident: number,
      app: incident.app,
      cause: incident.cause,
      link: incident.link,
    });
    return number;
  }

  async resolve(incident: string, resolution: string): Promise<void> {
    const found = await this.client.call(listResultSchema, {
      method: 'GET',
      path: TABLE,
      query: { sysparm_query: `number=${incident}`, sysparm_limit: 1 },
    });
    // Only an exact number match counts, so an id carrying query syntax resolves nothing else.
    const record = found.result.find((r) => fieldValue(r, 'number') === incident);
    if (!record) throw unknownIncident(incident, 'ServiceNow');
    await this.client.call(singleResultSchema, {
      method: 'PATCH',
      path: `${TABLE}/${fieldValue(record, 'sys_id')}`,
      body: { state: RESOLVED, close_code: 'Solved (Permanently)', close_notes: resolution },
      retry: true,
    });
    await recordEvidence(this.ledger, 'incident.resolved', `incident:${incident}`, this.actor, {
      incident,
      resolution,
    });
  }
}
