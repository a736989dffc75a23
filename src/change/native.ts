import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
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
} from '../domain/change-system.ts';
import type { Store } from '../store/open.ts';
import type { ChangeApprovalRow, ChangeRecordRow, Database } from '../store/schema.ts';
import { ChangeError } from './errors.ts';

/**
 * The local-mode change system: change records in the workspace database, numbered CHG0000001
 * onward, following ServiceNow's state model and codes.
 */
export class NativeChangeSystem implements ChangeSystem {
  readonly name = 'native';

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async open(request: OpenChangeRequest): Promise<ChangeRecord> {
    const now = this.clock().toISOString();
    const state = request.state ?? 'New';
    const number = await this.store.exclusive(async (db) => {
      const last = await db
        .selectFrom('change_records')
        .select((eb) => eb.fn.max('seq').as('max'))
        .executeTakeFirst();
      const seq = Number(last?.max ?? 0) + 1;
      const number = `CHG${String(seq).padStart(7, '0')}`;
      await db
        .insertInto('change_records')
        .values({
          number,
          seq,
          sys_id: randomUUID().replaceAll('-', ''),
          type: request.type,
          state,
          state_code: changeStateCodes[state],
          proposal: request.proposal,
          service: request.service,
          env: request.env,
          short_description: request.shortDescription,
          description: request.description,
          evidence: JSON.stringify(request.evidence ?? {}),
          cab_required: request.cabRequired ? 1 : 0,
          planned_start: request.plannedStart ?? null,
          planned_end: request.plannedEnd ?? null,
          close_code: null,
          close_notes: null,
          incident: null,
          deployment: null,
          emergency: request.emergency ? JSON.stringify(request.emergency) : null,
          retroactive: request.retroactive ? 1 : 0,
          opened_at: now,
          updated_at: now,
        })
        .execute();
      return number;
    });
    return this.get(number);
  }

  async get(number: string): Promise<ChangeRecord> {
    const change = await readChange(this.store.db, number);
    if (!change) {
      throw new ChangeError('UNKNOWN_CHANGE', `no change ${number}; see changeproof change list`);
    }
    return change;
  }

  async findByProposal(proposal: string): Promise<ChangeRecord | undefined> {
    const row = await this.store.db
      .selectFrom('change_records')
      .select('number')
      .where('proposal', '=', proposal)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? this.get(row.number) : undefined;
  }

  async list(
    filter: { state?: ChangeState; type?: ChangeType; env?: string } = {},
  ): Promise<ChangeRecord[]> {
    let query = this.store.db.selectFrom('change_records').selectAll().orderBy('seq');
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.type) query = query.where('type', '=', filter.type);
    if (filter.env) query = query.where('env', '=', filter.env);
    const rows = await query.execute();
    const approvals = await this.store.db
      .selectFrom('change_approvals')
      .selectAll()
      .orderBy('at')
      .execute();
    return rows.map((row) =>
      rowToChange(
        row,
        approvals.filter((a) => a.change_number === row.number),
      ),
    );
  }

  async recordApproval(number: string, approval: ChangeApproval): Promise<ChangeRecord> {
    await this.get(number);
    await this.store.db
      .insertInto('change_approvals')
      .values({
        id: randomUUID(),
        change_number: number,
        approver: approval.approver,
        role: approval.role,
        state: approval.state,
        comments: approval.comments ?? null,
        at: approval.at,
      })
      .execute();
    return this.get(number);
  }

  async transition(
    number: string,
    to: ChangeState,
    request: TransitionRequest = {},
  ): Promise<ChangeRecord> {
    await this.store.exclusive(async (db) => {
      const change = await readChange(db, number);
      if (!change) throw new ChangeError('UNKNOWN_CHANGE', `no change ${number}`);
      if (!isAllowedTransition(change.type, change.state, to)) {
        throw new ChangeError(
          'INVALID_TRANSITION',
          `change ${number} (${change.type}) cannot move from ${change.state} to ${to}`,
        );
      }
      await db
        .updateTable('change_records')
        .set({
          state: to,
          state_code: changeStateCodes[to],
          updated_at: this.clock().toISOString(),
          ...(request.closeCode ? { close_code: request.closeCode } : {}),
          ...(request.closeNotes ? { close_notes: request.closeNotes } : {}),
          ...(request.incident ? { incident: request.incident } : {}),
          ...(request.deployment ? { deployment: request.deployment } : {}),
        })
        .where('number', '=', number)
        .execute();
    });
    return this.get(number);
  }

  async schedule(number: string, window: { start: string; end: string }): Promise<ChangeRecord> {
    await this.get(number);
    await this.store.db
      .updateTable('change_records')
      .set({
        planned_start: window.start,
        planned_end: window.end,
        updated_at: this.clock().toISOString(),
      })
      .where('number', '=', number)
      .execute();
    return this.get(number);
  }

  async recordRetroReview(
    number: string,
    review: NonNullable<EmergencyDetails['review']>,
  ): Promise<ChangeRecord> {
    const change = await this.get(number);
    if (!change.emergency) {
      throw new ChangeError('NOT_EMERGENCY', `change ${number} is not an emergency change`);
    }
    await this.store.db
      .updateTable('change_records')
      .set({
        emergency: JSON.stringify({ ...change.emergency, review }),
        updated_at: this.clock().toISOString(),
      })
      .where('number', '=', number)
      .execute();
    return this.get(number);
  }
}

async function readChange(db: Kysely<Database>, number: string): Promise<ChangeRecord | undefined> {
  const row = await db
    .selectFrom('change_records')
    .selectAll()
    .where('number', '=', number)
    .executeTakeFirst();
  if (!row) return undefined;
  const approvals = await db
    .selectFrom('change_approvals')
    .selectAll()
    .where('change_number', '=', number)
    .orderBy('at')
    .execute();
  return rowToChange(row, approvals);
}

function rowToChange(row: ChangeRecordRow, approvals: ChangeApprovalRow[]): ChangeRecord {
  const change: ChangeRecord = {
    number: row.number,
    sysId: row.sys_id,
    type: row.type as ChangeType,
    state: row.state as ChangeState,
    stateCode: row.state_code,
    shortDescription: row.short_description,
    description: row.description,
    proposal: row.proposal,
    service: row.service,
    env: row.env,
    evidence: JSON.parse(row.evidence) as ChangeRecord['evidence'],
    cabRequired: row.cab_required === 1,
    approvals: approvals.map((a) => ({
      approver: a.approver,
      role: a.role,
      state: a.state as ChangeApproval['state'],
      at: a.at,
      ...(a.comments ? { comments: a.comments } : {}),
    })),
    retroactive: row.retroactive === 1,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
  };
  if (row.planned_start) change.plannedStart = row.planned_start;
  if (row.planned_end) change.plannedEnd = row.planned_end;
  if (row.close_code) change.closeCode = row.close_code as ChangeRecord['closeCode'];
  if (row.close_notes) change.closeNotes = row.close_notes;
  if (row.incident) change.incident = row.incident;
  if (row.deployment) change.deployment = row.deployment;
  if (row.emergency) change.emergency = JSON.parse(row.emergency) as EmergencyDetails;
  return change;
}
