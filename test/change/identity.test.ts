import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server/app.ts';
import { createLogger } from '../../src/log.ts';
import { LocalIdentity } from '../../src/embedded/identity/index.ts';
import { createTestBed, propose, type TestBed } from './helpers.ts';
import { runCli } from '../support/cli.ts';
import { join } from 'node:path';

describe('local identities and the API', () => {
  let bed: TestBed;
  let base: string;
  let close: () => Promise<void>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    bed = await createTestBed();
    for (const user of ['alice', 'bob', 'carol', 'erin']) {
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

  const call = (path: string, token?: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('stores only a hash and refuses forged, expired and unknown-user tokens', async () => {
    const issued = await bed.cm.identity.issue('bob', { ttlSeconds: 60 });
    const rows = await bed.ws.store.db.selectFrom('identity_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(issued.token.split('_')[2]);
    expect(await bed.cm.identity.authenticate(issued.token)).toEqual({
      name: 'bob',
      roles: ['approver'],
    });

    const forged = `${issued.token.slice(0, -1)}${issued.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(bed.cm.identity.authenticate(forged)).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(bed.cm.identity.authenticate('not-a-token')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(bed.cm.identity.authenticate(undefined)).rejects.toMatchObject({
      code: 'TOKEN_MISSING',
    });
    await expect(bed.cm.identity.issue('mallory')).rejects.toMatchObject({ code: 'UNKNOWN_USER' });

    const later = new LocalIdentity(
      bed.ws.config,
      bed.ws.store,
      bed.ws.ledger,
      () => new Date(Date.now() + 61_000),
    );
    await expect(later.authenticate(issued.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    const withoutBob = {
      ...bed.ws.config,
      identities: bed.ws.config.identities.filter((i) => i.name !== 'bob'),
    };
    const removed = new LocalIdentity(withoutBob, bed.ws.store, bed.ws.ledger);
    await expect(removed.authenticate(issued.token)).rejects.toMatchObject({
      code: 'UNKNOWN_USER',
    });
  });

  describe('when a token is refused', () => {
    const refusalsAfter = async (seq: number) =>
      (await bed.ws.ledger.list({ kind: 'identity.token-refused' })).filter((e) => e.seq > seq);
    const headSeq = async () => (await bed.ws.ledger.head())?.seq ?? 0;

    it('records forged, expired and unknown-user tokens, with no token material', async () => {
      const now = { at: Date.now() };
      const identity = new LocalIdentity(bed.ws.config, bed.ws.store, bed.ws.ledger, () => {
        return new Date(now.at);
      });
      const issued = await identity.issue('bob', { ttlSeconds: 60 });
      // `cpt_<16 hex>_<secret>`: the secret is base64url, so it may itself hold underscores.
      const secretOf = (token: string) => token.slice('cpt_'.length + 16 + 1);
      const secret = secretOf(issued.token);
      const before = await headSeq();

      const wrongSecret = `cpt_${issued.id}_${'A'.repeat(43)}`;
      await expect(identity.authenticate(wrongSecret)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      await expect(
        identity.authenticate(`cpt_${'0'.repeat(16)}_${secret.replace(/^./, 'x')}`),
      ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(identity.authenticate('not-a-token')).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      await expect(identity.authenticate(undefined)).rejects.toMatchObject({
        code: 'TOKEN_MISSING',
      });

      now.at += 61_000;
      await expect(identity.authenticate(issued.token)).rejects.toMatchObject({
        code: 'TOKEN_EXPIRED',
      });
      const kept = await identity.issue('bob', { ttlSeconds: 600 });
      const withoutBob = {
        ...bed.ws.config,
        identities: bed.ws.config.identities.filter((i) => i.name !== 'bob'),
      };
      const removed = new LocalIdentity(withoutBob, bed.ws.store, bed.ws.ledger);
      await expect(removed.authenticate(kept.token)).rejects.toMatchObject({
        code: 'UNKNOWN_USER',
      });

      const entries = await refusalsAfter(before);
      expect(entries.map((e) => e.payload)).toEqual([
        { code: 'TOKEN_INVALID', reason: 'wrong-secret', user: 'bob', token: issued.id },
        { code: 'TOKEN_INVALID', reason: 'unknown-token' },
        { code: 'TOKEN_INVALID', reason: 'malformed' },
        { code: 'TOKEN_EXPIRED', reason: 'expired', user: 'bob', token: issued.id },
        { code: 'UNKNOWN_USER', reason: 'unknown-user', user: 'bob', token: kept.id },
      ]);
      expect(entries.map((e) => [e.subject, e.actor])).toEqual([
        ['user:bob', 'unauthenticated'],
        ['identity:unauthenticated', 'unauthenticated'],
        ['identity:unauthenticated', 'unauthenticated'],
        ['user:bob', 'unauthenticated'],
        ['user:bob', 'unauthenticated'],
      ]);
      const recorded = JSON.stringify(entries);
      for (const token of [issued.token, kept.token, wrongSecret]) {
        const tokenSecret = secretOf(token);
        expect(recorded).not.toContain(tokenSecret);
        expect(recorded).not.toContain(tokenSecret.slice(0, 12));
      }
      expect(recorded).not.toContain('cpt_');
    });

    it('records a flood of forgeries once a minute, counting the ones left out', async () => {
      const now = { at: Date.now() };
      const identity = new LocalIdentity(bed.ws.config, bed.ws.store, bed.ws.ledger, () => {
        return new Date(now.at);
      });
      const before = await headSeq();
      const forge = (n: number) => `cpt_${n.toString(16).padStart(16, '0')}_${'B'.repeat(43)}`;

      for (let n = 1; n <= 20; n += 1) {
        await expect(identity.authenticate(forge(n))).rejects.toMatchObject({
          code: 'TOKEN_INVALID',
        });
      }
      expect((await refusalsAfter(before)).map((e) => e.payload)).toEqual([
        { code: 'TOKEN_INVALID', reason: 'unknown-token' },
      ]);

      now.at += 60_000;
      await expect(identity.authenticate(forge(21))).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect((await refusalsAfter(before)).map((e) => e.payload)).toEqual([
        { code: 'TOKEN_INVALID', reason: 'unknown-token' },
        { code: 'TOKEN_INVALID', reason: 'unknown-token', suppressed: 19 },
      ]);
    });
  });

  it('answers 401 without a valid token and 403 for a role that may not act', async () => {
    await bed.bump('api-1', 'prod', 'v5.0.0');
    const proposal = await propose(bed, 'api-1');

    expect((await call('/api/v1/proposals')).status).toBe(401);
    const forged = await call('/api/v1/proposals', `${tokens.bob!.slice(0, -2)}xx`);
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('TOKEN_INVALID');

    const listed = await call('/api/v1/proposals', tokens.erin);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { id: string }[]).map((p) => p.id)).toContain(proposal.id);
    const auditorApproves = await call(`/api/v1/proposals/${proposal.id}/approve`, tokens.erin, {});
    expect(auditorApproves.status).toBe(403);
    expect(((await auditorApproves.json()) as { error: { code: string } }).error.code).toBe(
      'ROLE_REQUIRED',
    );

    const self = await call(`/api/v1/proposals/${proposal.id}/approve`, tokens.alice, {});
    expect(self.status).toBe(409);
    expect(((await self.json()) as { error: { code: string } }).error.code).toBe('SELF_APPROVAL');
    expect((await call('/api/v1/proposals/404/merge', tokens.alice, {})).status).toBe(404);
    expect(
      (await call(`/api/v1/proposals/${proposal.id}/approve`, tokens.carol, { commit: 'nope' }))
        .status,
    ).toBe(400);

    const approved = await call(`/api/v1/proposals/${proposal.id}/approve`, tokens.carol, {
      commit: proposal.headCommit,
    });
    expect(approved.status).toBe(200);
    const merged = await call(`/api/v1/proposals/${proposal.id}/merge`, tokens.alice, {});
    expect(await merged.json()).toMatchObject({ state: 'merged' });
    const changes = (await (await call('/api/v1/changes', tokens.erin)).json()) as {
      state: string;
    }[];
    expect(changes.map((c) => c.state)).toContain('Implement');
  });

  it('resolves the CLI caller through the same token check', async () => {
    const ws = join(bed.root, 'ws');
    const issued = runCli(['token', 'issue', 'erin', '-w', ws]);
    expect(issued.status).toBe(0);
    const token = issued.stdout.trim();
    const list = runCli(['proposal', 'list', '-w', ws, '-o', 'json'], {
      env: { CHANGEPROOF_TOKEN: token },
    });
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(0);
    const approve = runCli(['proposal', 'approve', '1', '-w', ws, '--token', token]);
    expect(approve.status).toBe(1);
    expect(approve.stderr).toMatch(/erin \(auditor\) cannot approve/);
    const nobody = runCli(['change', 'list', '-w', ws, '--token', 'cpt_0000000000000000_forged']);
    expect(nobody.status).toBe(1);
    expect(nobody.stderr.trim().split('\n')).toHaveLength(1);
    expect(runCli(['token', 'issue', 'mallory', '-w', ws]).stderr).toMatch(/no identity mallory/);
  });
});
