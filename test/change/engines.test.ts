import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { freshDatabase, engines, type Engine } from '../support/stores.ts';
import { createTestBed, propose, type TestBed } from './helpers.ts';

describe.each(engines)('review and merge on %s', (engine: Engine) => {
  let bed: TestBed;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    dispose = database.dispose;
    // A fresh SQLite file is what init creates anyway; PostgreSQL needs the URL passed in.
    bed = await createTestBed(engine === 'postgres' ? { database: database.url } : {});
  });
  afterAll(async () => {
    await bed.dispose();
    await dispose();
  });

  it('opens, refuses, approves, merges and keeps the records consistent', async () => {
    await bed.bump('engine-1', 'prod', 'v7.0.0');
    const proposal = await propose(bed, 'engine-1');
    await expect(bed.cm.service.approve(bed.as('alice'), proposal.id)).rejects.toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect((await bed.cm.service.approve(bed.as('carol'), proposal.id)).gate.state).toBe('success');
    expect((await bed.cm.service.merge(bed.as('alice'), proposal.id)).state).toBe('merged');
    const change = await bed.cm.context.changeSystem.findByProposal(proposal.id);
    expect(change).toMatchObject({ state: 'Implement', approvals: [{ approver: 'carol' }] });
    const refused = await bed.ws.ledger.list({ kind: 'proposal.refused' });
    expect(refused.map((e) => evidenceOf(e, 'proposal.refused')?.code)).toEqual(['SELF_APPROVAL']);
    const token = await bed.cm.identity.issue('erin');
    expect((await bed.cm.identity.authenticate(token.token)).roles).toEqual(['auditor']);
  });
});
