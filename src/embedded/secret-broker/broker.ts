import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyName, Lease, LeaseRequest, SecretBroker } from '../../domain/secret-broker.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Store } from '../../store/open.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { SecretBrokerError } from './errors.ts';
import { loadPrivateKey, loadPublicKeyPem, signerFromKey } from './keys.ts';

const DEFAULT_TTL_SECONDS = 900;

export interface EmbeddedBrokerOptions {
  /** The workspace's keys folder: `<name>.key` (0600), `<name>.pub`, `secrets.json` (0600). */
  keysDir: string;
  store: Store;
  /** When given, every lease opened and revoked is recorded as evidence. */
  ledger?: Ledger;
  clock?: () => Date;
}

/**
 * The local-mode secret broker: keys on disk in the workspace, leases in the store. It signs on
 * behalf of lease holders so that no private key is ever handed to a pipeline.
 */
export class EmbeddedSecretBroker implements SecretBroker {
  private readonly clock: () => Date;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  async openLease(request: LeaseRequest): Promise<Lease> {
    const issued = this.clock();
    const ttl = request.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const lease: Lease = {
      id: randomUUID(),
      holder: request.holder,
      scopes: [...request.scopes],
      issuedAt: issued.toISOString(),
      expiresAt: new Date(issued.getTime() + ttl * 1000).toISOString(),
    };
    await this.options.store.db
      .insertInto('secret_leases')
      .values({
        id: lease.id,
        holder: lease.holder,
        scopes: JSON.stringify(lease.scopes),
        issued_at: lease.issuedAt,
        expires_at: lease.expiresAt,
        revoked_at: null,
      })
      .execute();
    await this.record('broker.lease.opened', lease.id, request.holder, {
      ...lease,
      ttlSeconds: ttl,
    });
    return lease;
  }

  async revokeLease(leaseId: string): Promise<void> {
    const lease = await this.findLease(leaseId);
    if (lease.revoked_at) return;
    const revokedAt = this.clock().toISOString();
    await this.options.store.db
      .updateTable('secret_leases')
      .set({ revoked_at: revokedAt })
      .where('id', '=', leaseId)
      .execute();
    await this.record('broker.lease.revoked', leaseId, lease.holder, { id: leaseId, revokedAt });
  }

  async signer(leaseId: string, key: KeyName): Promise<Signer> {
    await this.assertLease(leaseId, `sign:${key}`);
    const privateKey = loadPrivateKey(this.options.keysDir, key);
    return signerFromKey(privateKey, () => this.assertLease(leaseId, `sign:${key}`));
  }

  async publicKey(key: KeyName): Promise<string> {
    return loadPublicKeyPem(this.options.keysDir, key);
  }

  async readSecret(leaseId: string, path: string): Promise<string> {
    await this.assertLease(leaseId, `read:${path}`);
    const file = join(this.options.keysDir, 'secrets.json');
    const secrets = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)
      : {};
    const value = secrets[path];
    if (value === undefined) {
      throw new SecretBrokerError('SECRET_MISSING', `no secret stored at ${path}`, {
        category: 'not-found',
      });
    }
    return value;
  }

  private async findLease(leaseId: string) {
    const row = await this.options.store.db
      .selectFrom('secret_leases')
      .selectAll()
      .where('id', '=', leaseId)
      .executeTakeFirst();
    if (!row)
      throw new SecretBrokerError('LEASE_UNKNOWN', `lease ${leaseId} is unknown`, {
        category: 'forbidden',
      });
    return row;
  }

  /** Refuses unless the lease exists, is live, and grants `scope` (exactly or by prefix). */
  private async assertLease(leaseId: string, scope: string): Promise<void> {
    const row = await this.findLease(leaseId);
    if (row.revoked_at) {
      throw new SecretBrokerError('LEASE_REVOKED', `lease ${leaseId} was revoked`, {
        category: 'forbidden',
      });
    }
    if (new Date(row.expires_at).getTime() <= this.clock().getTime()) {
      throw new SecretBrokerError(
        'LEASE_EXPIRED',
        `lease ${leaseId} expired at ${row.expires_at}`,
        {
          category: 'forbidden',
        },
      );
    }
    const scopes = JSON.parse(row.scopes) as string[];
    const granted = scopes.some((s) => s === scope || (s.endsWith('/') && scope.startsWith(s)));
    if (!granted) {
      throw new SecretBrokerError('SCOPE_DENIED', `lease ${leaseId} does not grant ${scope}`, {
        category: 'forbidden',
      });
    }
  }

  private async record(
    kind: string,
    leaseId: string,
    holder: string,
    payload: object,
  ): Promise<void> {
    await this.options.ledger?.append({
      kind,
      subject: `lease:${leaseId}`,
      actor: 'system:secret-broker',
      payload: { ...payload, holder } as Record<string, string>,
    });
  }
}
