import type { Signer } from '../supply-chain/signer.ts';

/** Names of the signing keys the broker holds. */
export type KeyName = 'control-plane' | 'pipeline';

/**
 * A short-lived grant of named capabilities, e.g. `sign:pipeline` or `read:registry/`.
 * Every credential changeproof hands out is a lease: it expires by itself and is revoked as soon
 * as its holder is done.
 */
export interface Lease {
  id: string;
  holder: string;
  scopes: string[];
  issuedAt: string;
  expiresAt: string;
}

export interface LeaseRequest {
  holder: string;
  scopes: string[];
  /** Defaults to 900 s (15 minutes). */
  ttlSeconds?: number;
}

/**
 * The secret broker port. Local mode: the embedded broker with keys in the workspace. Connected
 * mode: Vault (Kubernetes auth, KV v2, transit). Private keys never leave the broker; callers get
 * signers.
 */
export interface SecretBroker {
  openLease(request: LeaseRequest): Promise<Lease>;
  revokeLease(leaseId: string): Promise<void>;
  /** A signer for `key`, valid while the lease is; the lease needs scope `sign:<key>`. */
  signer(leaseId: string, key: KeyName): Promise<Signer>;
  /** The public key (PEM SPKI); public keys need no lease. */
  publicKey(key: KeyName): Promise<string>;
  /** A stored secret at `path`; the lease needs scope `read:<prefix>` covering it. */
  readSecret(leaseId: string, path: string): Promise<string>;
}
