import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/domain/change-system.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { createLogger } from '../../src/log.ts';
import { createServer } from '../../src/server/app.ts';
import { runCli } from '../support/cli.ts';
import { createTestBed, propose, type TestBed } from './helpers.ts';

const HOUR = 3_600_000;

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string } };
}

/** Request changes, emergencies, retroactive reviews and planned windows, over HTTP and the CLI. */
describe('change and proposal routes and CLI', () => {
  let bed: TestBed;
  let base: string;
  let close: () => Promise<void>;
  let workspace: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    bed = await createTestBed();
    workspace = join(bed.root, 'ws');
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      tokens[user] = (await bed.cm.identity.issue(user)).token;
    }
    const { app } = createServer({ workspace: bed.ws, logger: createLogger({ level: 'silent' }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    close = () => app.close();
  });
  afterAll(async () => {
    await close();
    await bed.dispose();
  });

  const post = async (path: string, user: string, body: unknown = {}): Promise<Reply> => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[user]}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Reply['body'] };
  };
  const cli = (user: string, ...args: string[]) =>
    runCli([...args, '-w', workspace, '--token', tokens[user]!]);
  const changeOf = async (proposal: string) =>
    (await bed.cm.context.changeSystem.findByProposal(proposal))!;

  describe('when a reviewer requests changes', () => {
    it('fails the gate with changes-requested until a new push, over HTTP and the CLI', async () => {
      await bed.bump('reject-1', 'prod', 'v7.0.1');
      const proposal = await propose(bed, 'reject-1', 'alice');

      const auditor = await post(`/proposals/${proposal.id}/reject`, 'erin', {});
      expect([auditor.status, auditor.body.error?.code]).toEqual([403, 'ROLE_REQUIRED']);
      const rejected = await post(`/proposals/${proposal.id}/reject`, 'bob', {
        body: 'pin the digest, not the tag',
      });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({
        review: { reviewer: 'bob', state: 'changes_requested', commit: proposal.headCommit },
        gate: { state: 'failure', rule: 'changes-requested', description: /bob/ },
      });

      // An approval from someone else does not outvote a change request on the same head.
      const { gate } = await bed.cm.service.approve(bed.as('carol'), proposal.id);
      expect(gate).toMatchObject({ state: 'failure', rule: 'changes-requested' });
      const merge = await post(`/proposals/${proposal.id}/merge`, 'alice');
      expect([merge.status, merge.body.error?.code]).toEqual([409, 'CHANGES_REQUESTED']);
      const change = await changeOf(proposal.id);
      expect(change.approvals).toMatchObject([
        { approver: 'bob', state: 'rejected', comments: 'pin the digest, not the tag' },
        { approver: 'carol', state: 'approved', role: 'cab' },
      ]);
      const [reviewed] = await bed.ws.ledger.list({
        kind: 'proposal.reviewed',
        subject: `proposal:${proposal.id}`,
      });
      expect(evidenceOf(reviewed!, 'proposal.reviewed')).toMatchObject({
        reviewer: 'bob',
        state: 'changes_requested',
      });

      // A push answers the request: it no longer blocks, and the old approval is dismissed.
      const pushed = await bed.bump('reject-1', 'prod', 'v7.0.2', proposal.headCommit);
      await bed.cm.service.recordPush(bed.as('alice'), proposal.id);
      const stale = await post(`/proposals/${proposal.id}/reject`, 'bob', {
        commit: proposal.headCommit,
      });
      expect([stale.status, stale.body.error?.code]).toEqual([409, 'NOT_HEAD']);
      expect((await bed.cm.service.showProposal(bed.as('erin'), proposal.id)).statuses).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ context: 'changeproof/change-approved', state: 'pending' }),
        ]),
      );

      const cliReject = cli('bob', 'proposal', 'reject', proposal.id, '--body', 'still a tag');
      expect(cliReject.status).toBe(0);
      expect(cliReject.stdout).toMatch(
        new RegExp(
          `^changes_requested ${pushed.slice(0, 12)}; gate failure \\(changes-requested\\)`,
        ),
      );
      const [verdict] = (
        await bed.ws.ledger.list({ kind: 'gate.verdict', subject: `proposal:${proposal.id}` })
      ).slice(-1);
      expect(verdict?.payload).toMatchObject({
        commit: pushed,
        state: 'failure',
        rule: 'changes-requested',
      });
      const refusedByCli = cli('erin', 'proposal', 'reject', proposal.id);
      expect(refusedByCli.status).toBe(1);
      expect(refusedByCli.stderr.trim().split('\n')).toHaveLength(1);
      expect(await bed.mainHead()).not.toBe(pushed);
    });
  });

  describe('when on call declares an emergency', () => {
    it('merges over HTTP and takes the retroactive review over HTTP', async () => {
      await bed.bump('emergency-http', 'prod', 'v7.1.0');
      const proposal = await propose(bed, 'emergency-http', 'alice');

      const notOncall = await post(`/proposals/${proposal.id}/emergency`, 'bob', {
        reason: 'checkout is down',
      });
      expect([notOncall.status, notOncall.body.error?.code]).toEqual([403, 'ROLE_REQUIRED']);
      const noReason = await post(`/proposals/${proposal.id}/emergency`, 'dave', { reason: 'x' });
      expect(noReason.status).toBe(400);
      const declared = await post(`/proposals/${proposal.id}/emergency`, 'dave', {
        reason: 'checkout is down',
      });
      expect(declared.status).toBe(200);
      expect(declared.body).toMatchObject({
        proposal: { state: 'merged', mergeCommit: proposal.headCommit },
        change: { type: 'emergency', approvals: [{ approver: 'dave', role: 'oncall' }] },
        breakGlass: false,
      });
      const number = (declared.body.change as ChangeRecord).number;

      const byDeclarer = await post(`/changes/${number}/retro-review`, 'dave', {
        outcome: 'accepted',
      });
      expect(byDeclarer.status).toBe(403);
      const badOutcome = await post(`/changes/${number}/retro-review`, 'bob', { outcome: 'ok' });
      expect(badOutcome.status).toBe(400);
      const reviewed = await post(`/changes/${number}/retro-review`, 'carol', {
        outcome: 'accepted',
        notes: 'rollback was right',
      });
      expect(reviewed.status).toBe(200);
      expect(reviewed.body).toMatchObject({
        emergency: { review: { reviewer: 'carol', outcome: 'accepted' } },
      });
      const twice = await post(`/changes/${number}/retro-review`, 'bob', { outcome: 'accepted' });
      expect([twice.status, twice.body.error?.code]).toEqual([409, 'ALREADY_REVIEWED']);
      const late = await bed.cm.overdueRetroReviews(new Date(Date.now() + 73 * HOUR));
      expect(late.map((f) => f.change)).not.toContain(number);
    });

    it('merges from the CLI and takes the retroactive review from the CLI', async () => {
      await bed.bump('emergency-cli', 'prod', 'v7.2.0');
      const proposal = await propose(bed, 'emergency-cli', 'alice');
      const reason = ['--reason', 'payments failing'];

      const refused = cli('alice', 'change', 'emergency', '--proposal', proposal.id, ...reason);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/alice \(developer\) cannot/);
      const declared = cli('dave', 'change', 'emergency', '--proposal', proposal.id, ...reason);
      expect(declared.status).toBe(0);
      const [, number] = /as (CHG\d+); retroactive review due by /.exec(declared.stdout) ?? [];
      expect(number).toBeDefined();
      expect(await bed.mainHead()).toBe(proposal.headCommit);

      const review = ['--outcome', 'rejected', '--notes', 'should have waited'];
      const reviewed = cli('bob', 'change', 'retro-review', number!, ...review);
      expect(reviewed.status).toBe(0);
      expect(reviewed.stdout.trim()).toBe(`${number}: retroactive review rejected by bob`);
      expect((await bed.cm.context.changeSystem.get(number!)).emergency?.review).toMatchObject({
        reviewer: 'bob',
        outcome: 'rejected',
        notes: 'should have waited',
      });
      const [entry] = await bed.ws.ledger.list({
        kind: 'change.retro-reviewed',
        subject: `change:${number}`,
      });
      expect(entry?.payload).toMatchObject({ reviewer: 'bob', outcome: 'rejected' });
    });
  });

  describe('when the environment requires a planned window', () => {
    it('holds the gate until a window is planned over HTTP or the CLI', async () => {
      const file = 'environments/prod.yaml';
      await bed.edit('main', { [file]: `${await bed.readMain(file)}requireWindow: true\n` });
      await bed.bump('window-1', 'prod', 'v7.3.0');
      const proposal = await propose(bed, 'window-1', 'alice');
      const { gate } = await bed.cm.service.approve(bed.as('carol'), proposal.id);
      expect(gate).toMatchObject({ state: 'pending', rule: 'window-required' });
      const { number } = await changeOf(proposal.id);

      const start = new Date(Date.now() + HOUR).toISOString();
      const end = new Date(Date.now() + 2 * HOUR).toISOString();
      const developer = await post(`/changes/${number}/window`, 'alice', { start, end });
      expect([developer.status, developer.body.error?.code]).toEqual([403, 'ROLE_REQUIRED']);
      const inverted = await post(`/changes/${number}/window`, 'carol', { start: end, end: start });
      expect([inverted.status, inverted.body.error?.code]).toEqual([409, 'INVALID_TRANSITION']);
      const notTimes = await post(`/changes/${number}/window`, 'carol', { start: 'soon', end });
      expect(notTimes.status).toBe(400);
      expect((await changeOf(proposal.id)).plannedStart).toBeUndefined();

      const planned = cli('carol', 'change', 'window', number, '--start', start, '--end', end);
      expect(planned.status).toBe(0);
      expect(planned.stdout.trim()).toBe(`${number}: planned ${start} to ${end}; Scheduled`);
      const [verdict] = (
        await bed.ws.ledger.list({ kind: 'gate.verdict', subject: `proposal:${proposal.id}` })
      ).slice(-1);
      expect(verdict?.payload).toMatchObject({ state: 'success', rule: 'approved' });

      const another = await bed.bump('window-2', 'prod', 'v7.3.1');
      const second = await propose(bed, 'window-2', 'alice');
      await bed.cm.service.approve(bed.as('carol'), second.id);
      const secondChange = await changeOf(second.id);
      const overHttp = await post(`/changes/${secondChange.number}/window`, 'carol', {
        start,
        end,
      });
      expect(overHttp.status).toBe(200);
      expect(overHttp.body).toMatchObject({ plannedStart: start, plannedEnd: end });
      const shown = await bed.cm.service.showProposal(bed.as('erin'), second.id);
      expect(shown.statuses).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            commit: another,
            context: 'changeproof/change-approved',
            state: 'success',
          }),
        ]),
      );
    });
  });
});
