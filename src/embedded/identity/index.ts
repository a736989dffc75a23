import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ChangeError } from '../../change/errors.ts';
import type { ChangeproofConfig } from '../../config/schema.ts';
import type { Actor, Identity } from '../../domain/identity.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Store } from '../../store/open.ts';
import { RefusalRecorder, type TokenRefusal } from './refusal-recorder.ts';

/** A token as handed to its user, once. */
export interface IssuedToken {
  token: string;
  user: string;
  id: string;
  expiresAt: string;
}

const TOKEN = /^cpt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Local-mode identity: per-user bearer tokens `cpt_<id>_<secret>`. Only the SHA-256 of the secret
 * is stored, so the database cannot be turned back into tokens; tokens expire; a token for a user
 * no longer in changeproof.yaml stops working, and roles are always read from changeproof.yaml.
 */
export class LocalIdentity implements Identity {
  private readonly refusals: RefusalRecorder;

  constructor(
    private readonly config: ChangeproofConfig,
    private readonly store: Store,
    private readonly ledger: Ledger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.refusals = new RefusalRecorder(ledger, clock);
  }

  async issue(
    user: string,
    options: { ttlSeconds?: number; issuedBy?: string } = {},
  ): Promise<IssuedToken> {
    this.actorFor(user);
    const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isSafeInteger(ttl) || ttl < 1) {
      throw new ChangeError('TOKEN_INVALID', 'a token lives at least one second');
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
    await this.store.db
      .insertInto('identity_tokens')
      .values({
        id,
        user_name: user,
        secret_hash: hashSecret(secret),
        issued_at: now.toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
      })
      .execute();
    await this.ledger.append({
      kind: 'identity.token-issued',
      subject: `user:${user}`,
      actor: options.issuedBy ?? 'workspace-operator',
      payload: { user, token: id, expiresAt },
    });
    return { token: `cpt_${id}_${secret}`, user, id, expiresAt };
  }

  async revoke(id: string, revokedBy: string): Promise<void> {
    const result = await this.store.db
      .updateTable('identity_tokens')
      .set({ revoked_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      throw new ChangeError('TOKEN_INVALID', `no active token ${id}`);
    }
    await this.ledger.append({
      kind: 'identity.token-revoked',
      subject: `token:${id}`,
      actor: revokedBy,
      payload: { token: id },
    });
  }

  /**
   * The actor a bearer token stands for, or a refusal. Every refusal of a presented token is
   * recorded (`identity.token-refused`, throttled by {@link RefusalRecorder}); a missing token
   * is not, since it claims nothing.
   */
  async authenticate(token: string | undefined): Promise<Actor> {
    if (!token) {
      throw new ChangeError(
        'TOKEN_MISSING',
        'no token: pass --token or set CHANGEPROOF_TOKEN (changeproof token issue <user>)',
      );
    }
    const match = TOKEN.exec(token.trim());
    if (!match) return this.refuse({ code: 'TOKEN_INVALID', reason: 'malformed' }, forged());
    const [, id, secret] = match;
    const row = await this.store.db
      .selectFrom('identity_tokens')
      .selectAll()
      .where('id', '=', id!)
      .executeTakeFirst();

    // Compared in constant time whether or not the id exists, so timing tells nothing either.
    const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
    const secretMatches = timingSafeEqual(expected, Buffer.from(hashSecret(secret!), 'hex'));
    if (!row) return this.refuse({ code: 'TOKEN_INVALID', reason: 'unknown-token' }, forged());
    const named = { user: row.user_name, token: row.id };
    if (!secretMatches) {
      return this.refuse({ code: 'TOKEN_INVALID', reason: 'wrong-secret', ...named }, forged());
    }
    if (row.revoked_at) {
      return this.refuse({ code: 'TOKEN_INVALID', reason: 'revoked', ...named }, forged());
    }
    if (Date.parse(row.expires_at) <= this.clock().getTime()) {
      const expired = new ChangeError(
        'TOKEN_EXPIRED',
        `token ${id} expired at ${row.expires_at}; ask for a new one`,
      );
      return this.refuse({ code: 'TOKEN_EXPIRED', reason: 'expired', ...named }, expired);
    }
    try {
      return this.actorFor(row.user_name);
    } catch (error) {
      return this.refuse({ code: 'UNKNOWN_USER', reason: 'unknown-user', ...named }, error);
    }
  }

  private async refuse(refusal: TokenRefusal, error: unknown): Promise<never> {
    await this.refusals.record(refusal);
    throw error;
  }

  /** The user as changeproof.yaml defines them now. */
  actorFor(user: string): Actor {
    const identity = this.config.identities.find((i) => i.name === user);
    if (!identity) {
      throw new ChangeError('UNKNOWN_USER', `no identity ${user} in changeproof.yaml`);
    }
    return { name: identity.name, roles: [...identity.roles] };
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function forged(): ChangeError {
  return new ChangeError(
    'TOKEN_INVALID',
    'token not recognised; ask for a new one with changeproof token issue',
  );
}
