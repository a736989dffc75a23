import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceNowChangeSystem } from '../../src/adapters/servicenow/index.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { ServiceNowEmulator } from '../emulators/servicenow/server.ts';
import { createTestBed, propose, type TestBed } from '../change/helpers.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { figures, report } from './support/row.ts';

const FAULTS: Array<[string, Fault]> = [
  ['down', { kind: 'down' }],
  ['503', { kind: 'status', status: 503 }],
  ['429', { kind: 'status', status: 429, retryAfterSeconds: 0 }],
  ['slow (2 s, past the 500 ms timeout)', { kind: 'slow', delayMs: 2000 }],
];

describe('outside failures: the change system (ServiceNow) during merges', () => {
  const servicenow = new ServiceNowEmulator({ changeproof: 'pw' });
  let proxy: FaultProxy;
  let bed: TestBed;
  beforeAll(async () => {
    await servicenow.start();
    proxy = await startFaultProxy(servicenow.url);
    bed = await createTestBed({
      changeSystem: new ServiceNowChangeSystem({
        instanceUrl: proxy.url,
        credentials: { kind: 'basic', user: 'changeproof', password: 'pw' },
        backoffMs: 1,
        timeoutMs: 500,
        standardTemplate: 'std-image-bump',
      }),
    });
  });
  afterAll(async () => {
    await bed?.dispose();
    await proxy?.close();
    await servicenow.stop();
  });

  it('refuses normal merges, takes break-glass on purpose, and files the owed records once back', async (context) => {
    report(context, {
      area: 'Outside failures',
      tried: `change system ${FAULTS.map(([name]) => name).join(', ')}: normal merge, emergency, break-glass`,
    });
    const outcomes: Record<string, string> = {};
    for (const [name, fault] of FAULTS) {
      const branch = `hotfix-${name.replace(/\W+/g, '-')}`;
      await bed.bump(branch, 'prod', `v9.${Object.keys(outcomes).length}`);
      proxy.set(fault);
      const proposal = await propose(bed, branch);
      const before = await bed.mainHead();

      // Without the change system, neither the normal path nor a plain emergency merges.
      // CAB approves during the outage; the approval may land, but the merge still needs the
      // change record to move, which the change system must answer.
      const approval = await bed.cm.service.approve(bed.as('carol'), proposal.id).then(
        () => 'approved',
        (error: { code?: string }) => `approval refused ${error.code}`,
      );
      const refusal = (await bed.cm.service.merge(bed.as('alice'), proposal.id).then(
        () => undefined,
        (error: unknown) => error,
      )) as { code?: string } | undefined;
      expect(refusal?.code, `merge with change system ${name}`).toBeTruthy();
      await expect(
        bed.cm.declareEmergency(bed.as('dave'), { proposal: proposal.id, reason: 'outage' }),
      ).rejects.toMatchObject({ code: 'CHANGE_SYSTEM_UNAVAILABLE' });
      expect(await bed.mainHead(), `change system ${name}`).toBe(before);

      // Break-glass is a deliberate act, recorded with its reason.
      const glass = await bed.cm.declareEmergency(bed.as('dave'), {
        proposal: proposal.id,
        reason: `change system ${name}`,
        breakGlass: true,
      });
      expect(glass).toMatchObject({ breakGlass: true, proposal: { state: 'merged' } });
      expect(await bed.mainHead()).toBe(proposal.headCommit);
      const entries = await bed.ws.ledger.list({ kind: 'change.break-glass' });
      expect(entries.map((e) => evidenceOf(e, 'change.break-glass')?.proposal)).toContain(
        proposal.id,
      );

      // Back: the owed change record is filed in ServiceNow, retroactively.
      proxy.set({ kind: 'pass' });
      const filed = await bed.cm.openOwedChangeRecords();
      expect(filed.find((r) => r.proposal === proposal.id)).toMatchObject({
        type: 'emergency',
        retroactive: true,
      });
      outcomes[name] =
        `${approval}, merge refused ${refusal!.code}, break-glass recorded, record filed on return`;
      figures(context, outcomes);
    }
    const rows = servicenow.tables.get('change_request') ?? [];
    expect(rows.length).toBeGreaterThanOrEqual(FAULTS.length);
    figures(context, { 'ServiceNow records after return': rows.length, ...proxy.counts });
  });
});
