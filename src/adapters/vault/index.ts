import { z } from 'zod';
import { recordEvidence } from '../../domain/evidence.ts';
import type { KeyName, Lease, LeaseRequest, SecretBroker } from '../../domain/secret-broker.ts';
import { SecretBrokerError } from '../../embedded/secret-broker/errors.ts';
import { keyIdOf } from '../../embedded/secret-broker/keys.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { vaultSignatureToDer } from './der.ts';
import { VaultError } from './errors.ts';
import { VaultSession, type VaultSessionOptions } from './session.ts';
import { authResponseSchema, kvReadSchema, transitKeySchema, transitSignSchema } from './schema.ts';

export { vaultSignatureToDer, rawToDer } from './der.ts';
export { VaultError } from './errors.ts';

export interface VaultBrokerOptions extends VaultSessionOptions {
  kvMount: string;
  transitMount: string;
  transitKeys: Record<KeyName, string>;
  ledger?: Ledger;
  /** Defaults to 300 s: connected-mode leases are short. */
  defaultTtlSeconds?: number;
}

interface HeldLease {
  lease: Lease;
  token: string;
  revoked: boolean;
  /** Leases of dynamic secrets read under this lease, revoked with it. */
  secretLeases: string[];
}

const empty = z.unknown();

/**
 * The connected-mode secret broker on HashiCorp Vault. Each changeproof lease is a short-lived
 * Vault child token (the lease id is its accessor, which is not a secret); secrets are KV v2
 * reads made with that token; signing is transit `sign` with the named key, so the private key
 * never leaves Vault. Vault down means fail closed: calls are retried with backoff and then
 * refused with an UpstreamError; an expired lease is refused, never silently renewed.
 */
export class VaultSecretBroker implements SecretBroker {
  private readonly session: VaultSession;
  private readonly leases = new Map<string, HeldLease>();
  private readonly clock: () => number;

  constructor(private readonly options: VaultBrokerOptions) {
    this.session = new VaultSession(options);
    this.clock = options.clock ?? Date.now;
  }

  async openLease(request: LeaseRequest): Promise<Lease> {
    const ttl = request.ttlSeconds ?? this.options.defaultTtlSeconds ?? 300;
    const created = await this.session.call(authResponseSchema, {
      method: 'POST',
      path: 'auth/token/create',
      body: {
        ttl: `${ttl}s`,
        explicit_max_ttl: `${ttl}s`,
        renewable: true,
        display_name: request.holder,
        meta: { holder: request.holder, scopes: request.scopes.join(' ') },
      },
    });
    const issued = this.clock();
    const lease: Lease = {
      id: created.auth.accessor,
      holder: request.holder,
      scopes: [...request.scopes],
      issuedAt: new Date(issued).toISOString(),
      expiresAt: new Date(issued + created.auth.lease_duration * 1000).toISOString(),
    };
    this.leases.set(lease.id, {
      lease,
      token: created.auth.client_token,
      revoked: false,
      secretLeases: [],
    });
    if (this.options.ledger) {
      await recordEvidence(
        this.options.ledger,
        'broker.lease.opened',
        `lease:${lease.id}`,
        'system:secret-broker',
        { ...lease, ttlSeconds: ttl },
      );
    }
    return lease;
  }

  /** Extends a live lease (Vault `auth/token/renew-self`), up to the token's maximum TTL. */
  async renewLease(leaseId: string, ttlSeconds: number): Promise<Lease> {
    const held = this.assertLease(leaseId);
    const renewed = await this.session.callAs(held.token, authResponseSchema, {
      method: 'POST',
      path: 'auth/token/renew-self',
      body: { increment: `${ttlSeconds}s` },
    });
    held.lease = {
      ...held.lease,
      expiresAt: new Date(this.clock() + renewed.auth.lease_duration * 1000).toISOString(),
    };
    return held.lease;
  }

  async revokeLease(leaseId: string): Promise<void> {
    const held = this.leases.get(leaseId);
    if (!held || held.revoked) return;
    for (const secretLease of held.secretLeases) {
      await this.session.call(empty, {
        method: 'PUT',
        path: 'sys/leases/revoke',
        body: { lease_id: secretLease },
      });
    }
    await this.session.call(empty, {
      method: 'POST',
      path: 'auth/token/revoke-accessor',
      body: { accessor: leaseId },
      retry: true,
    });
    held.revoked = true;
    if (this.options.ledger) {
      await recordEvidence(
        this.options.ledger,
        'broker.lease.revoked',
        `lease:${leaseId}`,
        'system:secret-broker',
        { id: leaseId, holder: held.lease.holder, revokedAt: new Date(this.clock()).toISOString() },
      );
    }
  }

  async signer(leaseId: string, key: KeyName): Promise<Signer> {
    this.assertLease(leaseId, `sign:${key}`);
    const publicKeyPem = await this.publicKey(key);
    const name = this.options.transitKeys[key];
    return {
      keyId: keyIdOf(publicKeyPem),
      publicKeyPem,
      sign: async (data) => {
        const held = this.assertLease(leaseId, `sign:${key}`);
        const signed = await this.session.callAs(held.token, transitSignSchema, {
          method: 'POST',
          path: `${this.options.transitMount}/sign/${name}`,
          body: {
            input: Buffer.from(data).toString('base64'),
            hash_algorithm: 'sha2-256',
            marshaling_algorithm: 'asn1',
          },
          // Signing the same bytes twice is harmless.
          retry: true,
        });
        return vaultSignatureToDer(signed.data.signature);
      },
    };
  }

  async publicKey(key: KeyName): Promise<string> {
    const name = this.options.transitKeys[key];
    const read = await this.session.call(transitKeySchema, {
      method: 'GET',
      path: `${this.options.transitMount}/keys/${name}`,
    });
    const pem = read.data.keys[String(read.data.latest_version)]?.public_key;
    if (!pem || read.data.type !== 'ecdsa-p256') {
      throw new SecretBrokerError(
        'KEY_INVALID',
        `transit key ${name} must be an ecdsa-p256 signing key (it is ${read.data.type})`,
        { category: 'internal' },
      );
    }
    return pem;
  }

  /** `path` is a KV v2 path, optionally `#field` (default field `value`). */
  async readSecret(leaseId: string, path: string): Promise<string> {
    const held = this.assertLease(leaseId, `read:${path}`);
    const [secretPath, field = 'value'] = path.split('#') as [string, string?];
    const read = await this.session
      .callAs(held.token, kvReadSchema, {
        method: 'GET',
        path: `${this.options.kvMount}/data/${secretPath}`,
      })
      .catch((error: unknown) => {
        if (error instanceof VaultError && error.code === 'VAULT_NOT_FOUND') {
          throw new SecretBrokerError('SECRET_MISSING', `no secret stored at ${secretPath}`, {
            category: 'not-found',
          });
        }
        throw error;
      });
    if (read.lease_id) held.secretLeases.push(read.lease_id);
    const value = read.data.data[field];
    if (typeof value !== 'string') {
      throw new SecretBrokerError(
        'SECRET_MISSING',
        `no field ${field} in ${this.options.kvMount}/${secretPath}`,
        { category: 'not-found' },
      );
    }
    return value;
  }

  /** Refuses unless the lease is ours, live, and grants `scope` (exactly or by a `/` prefix). */
  private assertLease(leaseId: string, scope?: string): HeldLease {
    const held = this.leases.get(leaseId);
    if (!held)
      throw new SecretBrokerError('LEASE_UNKNOWN', `lease ${leaseId} is unknown`, {
        category: 'forbidden',
      });
    if (held.revoked)
      throw new SecretBrokerError('LEASE_REVOKED', `lease ${leaseId} was revoked`, {
        category: 'forbidden',
      });
    if (Date.parse(held.lease.expiresAt) <= this.clock()) {
      throw new SecretBrokerError(
        'LEASE_EXPIRED',
        `lease ${leaseId} expired at ${held.lease.expiresAt}; open a new one`,
        { category: 'forbidden' },
      );
    }
    const granted =
      !scope ||
      held.lease.scopes.some((s) => s === scope || (s.endsWith('/') && scope.startsWith(s)));
    if (!granted)
      throw new SecretBrokerError('SCOPE_DENIED', `lease ${leaseId} does not grant ${scope}`, {
        category: 'forbidden',
      });
    return held;
  }
}
