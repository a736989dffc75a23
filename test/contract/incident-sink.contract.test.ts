import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceNowIncidentSink } from '../../src/adapters/servicenow/index.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { ledgerIncidentSink, type IncidentSink } from '../../src/reconcile/ports.ts';
import { ServiceNowEmulator } from '../emulators/servicenow/server.ts';
import { freshStore } from '../support/stores.ts';

/*
 * The IncidentSink contract: the CD plane opens and resolves its drift and sync-failure incidents
 * the same way whether they live in the ledger only or in ServiceNow, and the ledger records both
 * with the incident's own id. `state` reads the system of record: the ledger for the ledger-backed
 * sink, ServiceNow's incident table for the adapter.
 */
const servicenow = new ServiceNowEmulator({ changeproof: 'pw' });
const disposers: (() => Promise<void>)[] = [];

interface Subject {
  sink: IncidentSink;
  ledger: Ledger;
  state(incident: string): Promise<'open' | 'resolved' | 'unknown'>;
}

async function freshLedger(): Promise<Ledger> {
  const { store, dispose } = await freshStore('sqlite');
  disposers.push(dispose);
  return new Ledger(store);
}

const implementations: [string, () => Promise<Subject>][] = [
  [
    'ledger',
    async () => {
      const ledger = await freshLedger();
      return {
        sink: ledgerIncidentSink(ledger),
        ledger,
        state: async (incident) => {
          const kinds = (await ledger.list({ subject: `incident:${incident}` })).map((e) => e.kind);
          if (kinds.includes('incident.resolved')) return 'resolved';
          return kinds.includes('incident.opened') ? 'open' : 'unknown';
        },
      };
    },
  ],
  [
    'servicenow',
    async () => {
      const ledger = await freshLedger();
      const sink = new ServiceNowIncidentSink(
        {
          instanceUrl: servicenow.url,
          credentials: { kind: 'basic', user: 'changeproof', password: 'pw' },
          backoffMs: 1,
        },
        ledger,
      );
      return {
        sink,
        ledger,
        state: async (incident) => {
          const row = servicenow.tables.get('incident')!.find((r) => r.number === incident);
          if (!row) return 'unknown';
          return row.state === '6' ? 'resolved' : 'open';
        },
      };
    },
  ],
];

beforeAll(async () => {
  await servicenow.start();
});
afterAll(async () => {
  await servicenow.stop();
  for (const dispose of disposers) await dispose();
});

describe.each(implementations)('IncidentSink contract: %s', (_, create) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await create();
  });

  it('opens an incident under its own id and records it in the ledger with app, cause and link', async () => {
    const id = await subject.sink.open({
      app: 'prod/payments',
      cause: 'drift',
      summary: 'Deployment/payments/payments spec.replicas changed',
      link: 'ledger:42',
    });

    expect(id).toMatch(/^INC/);
    expect(await subject.state(id)).toBe('open');
    const [opened] = await subject.ledger.list({
      kind: 'incident.opened',
      subject: `incident:${id}`,
    });
    expect(opened?.actor).toBe('system:cd-engine');
    expect(evidenceOf(opened!, 'incident.opened')).toEqual({
      incident: id,
      app: 'prod/payments',
      cause: 'drift',
      link: 'ledger:42',
    });
  });

  it('gives every incident a distinct id, for drift and for failed syncs alike', async () => {
    const ids = await Promise.all([
      subject.sink.open({ app: 'prod/web', cause: 'sync-failure', summary: 'x', link: 'l1' }),
      subject.sink.open({ app: 'prod/web', cause: 'sync-failure', summary: 'x', link: 'l2' }),
      subject.sink.open({ app: 'dev/web', cause: 'drift', summary: 'y', link: 'l3' }),
    ]);

    expect(new Set(ids).size).toBe(3);
    const opened = await subject.ledger.list({ kind: 'incident.opened' });
    const causes = opened.filter((e) => ids.includes(String(e.payload.incident)));
    expect(causes.map((e) => e.payload.cause).sort()).toEqual([
      'drift',
      'sync-failure',
      'sync-failure',
    ]);
  });

  it('resolves an incident with its resolution, recorded against the same id', async () => {
    const id = await subject.sink.open({
      app: 'prod/payments',
      cause: 'drift',
      summary: 'image changed by hand',
      link: 'ledger:7',
    });
    const other = await subject.sink.open({
      app: 'prod/payments',
      cause: 'drift',
      summary: 'another',
      link: 'ledger:8',
    });

    await subject.sink.resolve(id, 'reverted by self-heal');

    expect(await subject.state(id)).toBe('resolved');
    expect(await subject.state(other)).toBe('open');
    const resolved = await subject.ledger.list({
      kind: 'incident.resolved',
      subject: `incident:${id}`,
    });
    expect(resolved.map((e) => evidenceOf(e, 'incident.resolved'))).toEqual([
      { incident: id, resolution: 'reverted by self-heal' },
    ]);
  });

  it('refuses to resolve an incident that was never opened, and records no resolution', async () => {
    const known = await subject.sink.open({
      app: 'prod/payments',
      cause: 'drift',
      summary: 'a real one',
      link: 'ledger:9',
    });
    const before = await subject.ledger.list({ kind: 'incident.resolved' });

    for (const never of ['INC9999999', `${known}-typo`, `${known}^ORactive=true`]) {
      await expect(subject.sink.resolve(never, 'reverted by self-heal')).rejects.toMatchObject({
        code: 'INCIDENT_UNKNOWN',
        category: 'not-found',
      });
      expect(await subject.state(never)).toBe('unknown');
    }

    expect(await subject.state(known)).toBe('open');
    expect(await subject.ledger.list({ kind: 'incident.resolved' })).toEqual(before);
  });
});
