import { randomBytes } from 'node:crypto';
import {
  HttpEmulator,
  bearerOf,
  type EmulatedRequest,
  type EmulatedResponse,
} from '../http-emulator.ts';

type Row = Record<string, string>;

/**
 * A ServiceNow emulator: the Table API (`/api/now/table/{table}` with encoded `sysparm_query`),
 * the Change API (`/api/sn_chg_rest/change/normal|emergency|standard/{template}`, answering
 * `{value, display_value}` pairs), sysapproval_approver, incident, Basic auth and the OAuth
 * password grant at `/oauth_token.do`.
 */
export class ServiceNowEmulator extends HttpEmulator {
  readonly tables = new Map<string, Row[]>([
    ['change_request', []],
    ['sysapproval_approver', []],
    ['incident', []],
  ]);
  readonly templates = new Set(['std-image-bump']);
  private readonly tokens = new Set<string>();
  private counters = { CHG: 10000, INC: 10000 };
  private clock = Date.parse('2025-03-01T09:00:00Z');

  constructor(
    private readonly users: Record<string, string>,
    private readonly client = { id: 'cp-client', secret: 'cp-secret' },
  ) {
    super();
    this.on('POST', '/oauth_token.do', (r) => this.token(r));
    this.on('POST', '/api/sn_chg_rest/change/standard/:template', (r) =>
      this.authed(r, () => this.createChange(r, 'standard')),
    );
    this.on('POST', '/api/sn_chg_rest/change/:type', (r) =>
      this.authed(r, () => this.createChange(r, r.params.type!)),
    );
    this.on('GET', '/api/now/table/:table', (r) => this.authed(r, () => this.list(r)));
    this.on('GET', '/api/now/table/:table/:id', (r) =>
      this.authed(r, () => this.withRow(r, (row) => ({ status: 200, body: { result: row } }))),
    );
    this.on('POST', '/api/now/table/:table', (r) =>
      this.authed(r, () => this.insert(r.params.table!, r.body as Row)),
    );
    this.on('PATCH', '/api/now/table/:table/:id', (r) =>
      this.authed(r, () => this.withRow(r, (row) => this.patch(row, r.body as Row))),
    );
  }

  /** Edits a record directly, as someone in the ServiceNow UI would, behind changeproof's back. */
  edit(table: string, number: string, fields: Row): void {
    const row = this.tables.get(table)?.find((r) => r.number === number);
    if (!row) throw new Error(`no ${number}`);
    Object.assign(row, fields, { sys_updated_on: this.now() });
  }

  /** Adds an approval row directly (a CAB member approving in ServiceNow). */
  approve(number: string, approver: string, state = 'approved', role = 'cab'): void {
    const change = this.tables.get('change_request')!.find((r) => r.number === number)!;
    this.insert('sysapproval_approver', {
      sysapproval: change.sys_id!,
      approver,
      state,
      u_role: role,
    });
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace('T', ' ').slice(0, 19);
  }

  private authed(request: EmulatedRequest, handler: () => EmulatedResponse): EmulatedResponse {
    const header = request.headers.authorization ?? '';
    const bearer = bearerOf(request);
    if (bearer && this.tokens.has(bearer)) return handler();
    if (header.startsWith('Basic ')) {
      const [user, password] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (user && this.users[user] === password) return handler();
    }
    return {
      status: 401,
      body: {
        error: {
          message: 'User Not Authenticated',
          detail: 'Required to provide Auth information',
        },
        status: 'failure',
      },
    };
  }

  private token(request: EmulatedRequest): EmulatedResponse {
    const form = request.body as Row;
    const valid =
      form.grant_type === 'password' &&
      form.client_id === this.client.id &&
      form.client_secret === this.client.secret &&
      this.users[form.username ?? ''] === form.password;
    if (!valid)
      return { status: 401, body: { error: 'access_denied', error_description: 'access_denied' } };
    const token = randomBytes(16).toString('hex');
    this.tokens.add(token);
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 1799,
        refresh_token: 'r',
        scope: 'useraccount',
      },
    };
  }

  /** Revokes every issued OAuth token (the next call gets 401 and must fetch a new one). */
  expireTokens(): void {
    this.tokens.clear();
  }

  private createChange(request: EmulatedRequest, type: string): EmulatedResponse {
    if (!['normal', 'emergency', 'standard'].includes(type))
      return { status: 400, body: { error: { message: `Invalid change type ${type}` } } };
    if (type === 'standard' && !this.templates.has(request.params.template!))
      return { status: 404, body: { error: { message: 'Template not found' } } };
    const body = request.body as Row;
    const created = this.insert('change_request', {
      state: '-5',
      ...body,
      type,
      approval: type === 'standard' ? 'approved' : 'not requested',
    });
    const row = (created.body as { result: Row }).result;
    // The Change API answers every field as a {value, display_value} pair.
    const pairs = Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, { value: v, display_value: v }]),
    );
    return { status: 200, body: { result: pairs } };
  }

  private insert(table: string, fields: Row): EmulatedResponse {
    const rows = this.tables.get(table);
    if (!rows) return { status: 400, body: { error: { message: 'Invalid table' } } };
    const now = this.now();
    const row: Row = {
      ...fields,
      sys_id: randomBytes(16).toString('hex'),
      sys_created_on: now,
      sys_updated_on: now,
    };
    if (table === 'change_request')
      row.number = `CHG${String(++this.counters.CHG).padStart(7, '0')}`;
    if (table === 'incident') row.number = `INC${String(++this.counters.INC).padStart(7, '0')}`;
    rows.push(row);
    return { status: 201, body: { result: row } };
  }

  private patch(row: Row, fields: Row): EmulatedResponse {
    Object.assign(row, fields, { sys_updated_on: this.now() });
    return { status: 200, body: { result: row } };
  }

  private withRow(
    request: EmulatedRequest,
    handler: (row: Row) => EmulatedResponse,
  ): EmulatedResponse {
    const row = this.tables.get(request.params.table!)?.find((r) => r.sys_id === request.params.id);
    return row ? handler(row) : { status: 404, body: { error: { message: 'No Record found' } } };
  }

  private list(request: EmulatedRequest): EmulatedResponse {
    const rows = this.tables.get(request.params.table!);
    if (!rows) return { status: 400, body: { error: { message: 'Invalid table' } } };
    let result = rows.filter((row) => matches(row, request.query.get('sysparm_query') ?? ''));
    const order = /\^?ORDERBY(DESC)?(\w+)/.exec(request.query.get('sysparm_query') ?? '');
    if (order) {
      const [, desc, field] = order;
      result = [...result].sort(
        (a, b) => (a[field!] ?? '').localeCompare(b[field!] ?? '') * (desc ? -1 : 1),
      );
    }
    const offset = Number(request.query.get('sysparm_offset') ?? 0);
    result = result.slice(offset, offset + Number(request.query.get('sysparm_limit') ?? 10000));
    if (request.query.get('sysparm_display_value') === 'all') {
      return {
        status: 200,
        body: {
          result: result.map((row) =>
            Object.fromEntries(
              Object.entries(row).map(([k, v]) => [k, { value: v, display_value: v }]),
            ),
          ),
        },
      };
    }
    return { status: 200, body: { result } };
  }
}

/** The encoded query subset changeproof uses: `a=b`, `a!=b`, `aSTARTSWITHb`, joined by `^`. */
function matches(row: Row, query: string): boolean {
  return query
    .split('^')
    .filter((clause) => clause && !clause.startsWith('ORDERBY'))
    .every((clause) => {
      const starts = /^(\w+)STARTSWITH(.*)$/.exec(clause);
      if (starts) return (row[starts[1]!] ?? '').startsWith(starts[2]!);
      const not = /^(\w+)!=(.*)$/.exec(clause);
      if (not) return (row[not[1]!] ?? '') !== not[2];
      const eq = /^(\w+)=(.*)$/.exec(clause);
      return eq ? (row[eq[1]!] ?? '') === eq[2] : true;
    });
}
