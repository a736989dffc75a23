import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proposal } from '../../src/domain/forge.ts';
import { createLogger } from '../../src/log.ts';
import { createServer } from '../../src/server/app.ts';
import { createTestBed, propose, type TestBed } from '../change/helpers.ts';
import { within } from './support/bounded.ts';
import { SEED } from './support/prng.ts';
import { figures, report } from './support/row.ts';

const RUNS = 150;
const bytes = (length: number) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((b) => Buffer.from(b));

/** `cpt_<16 hex id>_<secret>`: the secret is base64url and may hold underscores itself. */
const secretOf = (token: string) => token.slice('cpt_'.length + 16 + 1);

describe('hostile input: forged, expired and replayed API tokens', () => {
  let bed: TestBed;
  let base: string;
  let close: () => Promise<void>;
  let proposal: Proposal;

  beforeAll(async () => {
    bed = await createTestBed();
    await bed.bump('hostile-tokens', 'prod', 'v7.0.0');
    proposal = await propose(bed, 'hostile-tokens');
    const { app } = createServer({ workspace: bed.ws, logger: createLogger({ level: 'silent' }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    close = () => app.close();
  }, 120_000);
  afterAll(async () => {
    await close?.();
    await bed?.dispose();
  });

  /** Tries to approve the proposal with `token`; the status and error code it got. */
  const approveWith = async (token: string) => {
    const response = await within(
      5000,
      fetch(`${base}/api/v1/proposals/${proposal.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      }),
      'the API',
    );
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, code: body.error?.code };
  };

  /** What an approval would change: the proposal's reviews, its state, main and the ledger. */
  const snapshot = async () => ({
    reviews: (await bed.cm.forge.listReviews(proposal.id)).length,
    state: (await bed.cm.forge.getProposal(proposal.id)).state,
    main: await bed.mainHead(),
    head: (await bed.ws.ledger.head())?.seq ?? 0,
  });

  it('refuses each with 401, records it as identity.token-refused, and changes nothing', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} forged API tokens (junk, unknown ids, a real id with a wrong secret), an expired and a revoked (replayed) token against an approval over HTTP, seed ${SEED}`,
    });
    const carol = await bed.cm.identity.issue('carol');
    const expired = await bed.cm.identity.issue('carol', { ttlSeconds: 600 });
    await bed.ws.store.db
      .updateTable('identity_tokens')
      .set({ expires_at: '2020-01-01T00:00:00.000Z' })
      .where('id', '=', expired.id)
      .execute();
    const revoked = await bed.cm.identity.issue('carol');
    await bed.cm.identity.revoke(revoked.id, 'admin');
    const before = await snapshot();

    const forged = fc.oneof(
      fc.string({ minLength: 1, maxLength: 120 }).filter((s) => s.trim() === s && s.length > 0),
      fc
        .tuple(bytes(8), bytes(32))
        .map(([id, secret]) => `cpt_${id.toString('hex')}_${secret.toString('base64url')}`),
      fc.constant(`cpt_${carol.id}_${randomBytes(32).toString('base64url')}`),
    );
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(forged, async (token) => {
        const answer = await approveWith(token);
        expect(answer.status).toBe(401);
        statuses.set(answer.code ?? 'none', (statuses.get(answer.code ?? 'none') ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(await approveWith(expired.token)).toEqual({ status: 401, code: 'TOKEN_EXPIRED' });
    // A revoked token presented again: the replay of a credential its owner gave up.
    expect(await approveWith(revoked.token)).toEqual({ status: 401, code: 'TOKEN_INVALID' });
    expect(await approveWith(revoked.token)).toEqual({ status: 401, code: 'TOKEN_INVALID' });

    // Nothing changed: no review, no merge, and the only new evidence is the refusals.
    const after = await snapshot();
    expect({ ...after, head: 0 }).toEqual({ ...before, head: 0 });
    const appended = (await bed.ws.ledger.list({ afterSeq: before.head })).filter(
      (e) => e.seq <= after.head,
    );
    expect(new Set(appended.map((e) => e.kind))).toEqual(new Set(['identity.token-refused']));
    const reasons = new Set(appended.map((e) => e.payload.reason as string));
    for (const reason of ['wrong-secret', 'expired', 'revoked', 'unknown-token', 'malformed']) {
      expect(reasons, reason).toContain(reason);
    }
    const recorded = JSON.stringify(appended);
    for (const token of [carol.token, expired.token, revoked.token]) {
      expect(recorded).not.toContain(secretOf(token).slice(0, 12));
    }

    // The same request with a valid token does change things: the refusals were not vacuous.
    expect((await approveWith(carol.token)).status).toBe(200);
    expect((await snapshot()).reviews).toBe(before.reviews + 1);
    figures(context, {
      'refused 401': RUNS + 3,
      'refusal entries': appended.length,
      'by code': [...statuses].map(([code, n]) => `${code} ${n}`).join(', '),
      'state changed': 'no',
    });
  });
});
