import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { HttpEmulator, type EmulatedRequest, type EmulatedResponse } from '../http-emulator.ts';

interface TokenState {
  token: string;
  accessor: string;
  expiresAt: number;
  maxExpiresAt: number;
  parent?: string;
  revoked: boolean;
}

/**
 * A Vault emulator: Kubernetes auth login (`auth/kubernetes/login` with a role bound to known
 * service-account tokens), token create/renew-self/revoke-accessor with TTLs (child tokens die
 * with their parent), KV v2 reads, transit keys and `sign` with real ECDSA P-256 (asn1 or jws
 * marshaling), `sys/leases/revoke`, and a sealed mode answering 503.
 */
export class VaultEmulator extends HttpEmulator {
  readonly tokens = new Map<string, TokenState>();
  readonly kv = new Map<string, Record<string, string>>();
  readonly keys = new Map<string, { privateKey: KeyObject; publicKeyPem: string }>();
  readonly revokedLeases: string[] = [];
  sealed = false;
  loginTtlSeconds = 60;
  logins = 0;

  constructor(private readonly roles: Record<string, string[]>) {
    super();
    this.on('POST', '/v1/auth/kubernetes/login', (r) => this.login(r));
    this.on('POST', '/v1/auth/token/create', (r) => this.authed(r, (t) => this.createChild(r, t)));
    this.on('POST', '/v1/auth/token/renew-self', (r) =>
      this.authed(r, (t) => this.renewSelf(r, t)),
    );
    this.on('POST', '/v1/auth/token/revoke-accessor', (r) =>
      this.authed(r, () => this.revokeAccessor(r)),
    );
    this.on('GET', '/v1/secret/data/:path+', (r) => this.authed(r, () => this.readKv(r)));
    this.on('GET', '/v1/transit/keys/:name', (r) => this.authed(r, () => this.readKey(r)));
    this.on('POST', '/v1/transit/sign/:name', (r) => this.authed(r, () => this.sign(r)));
    this.on('PUT', '/v1/sys/leases/revoke', (r) => this.authed(r, () => this.revokeLease(r)));
  }

  /** Creates an ecdsa-p256 transit key; returns its public key PEM. */
  createKey(name: string): string {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keys.set(name, { privateKey, publicKeyPem });
    return publicKeyPem;
  }

  /** Ends every token now, as if their TTL ran out. */
  expireAll(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }

  private issue(ttlSeconds: number, parent?: string): TokenState {
    const state: TokenState = {
      token: `hvs.${randomBytes(12).toString('hex')}`,
      accessor: randomBytes(12).toString('hex'),
      expiresAt: Date.now() + ttlSeconds * 1000,
      maxExpiresAt: Date.now() + ttlSeconds * 1000,
      revoked: false,
      ...(parent ? { parent } : {}),
    };
    this.tokens.set(state.token, state);
    return state;
  }

  private live(token: string | undefined): TokenState | undefined {
    const state = token ? this.tokens.get(token) : undefined;
    if (!state || state.revoked || state.expiresAt <= Date.now()) return undefined;
    if (state.parent && !this.live(state.parent)) return undefined;
    return state;
  }

  private authed(
    request: EmulatedRequest,
    handler: (token: TokenState) => EmulatedResponse,
  ): EmulatedResponse {
    if (this.sealed) return { status: 503, body: { errors: ['Vault is sealed'] } };
    const token = this.live(request.headers['x-vault-token'] as string | undefined);
    if (!token) return { status: 403, body: { errors: ['permission denied'] } };
    return handler(token);
  }

  private authBody(state: TokenState) {
    const ttl = Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000));
    return {
      auth: {
        client_token: state.token,
        accessor: state.accessor,
        lease_duration: ttl,
        renewable: true,
        policies: ['changeproof'],
      },
    };
  }

  private login(request: EmulatedRequest): EmulatedResponse {
    if (this.sealed) return { status: 503, body: { errors: ['Vault is sealed'] } };
    const body = request.body as { role?: string; jwt?: string };
    if (!body.role || !this.roles[body.role]?.includes(body.jwt ?? '')) {
      return { status: 403, body: { errors: ['permission denied'] } };
    }
    this.logins++;
    return { status: 200, body: this.authBody(this.issue(this.loginTtlSeconds)) };
  }

  private createChild(request: EmulatedRequest, parent: TokenState): EmulatedResponse {
    const ttl = parseTtl((request.body as { ttl?: string }).ttl ?? '300s');
    return { status: 200, body: this.authBody(this.issue(ttl, parent.token)) };
  }

  private renewSelf(request: EmulatedRequest, token: TokenState): EmulatedResponse {
    const increment = parseTtl((request.body as { increment?: string }).increment ?? '300s');
    token.expiresAt = Math.min(Date.now() + increment * 1000, token.maxExpiresAt);
    return { status: 200, body: this.authBody(token) };
  }

  private revokeAccessor(request: EmulatedRequest): EmulatedResponse {
    const accessor = (request.body as { accessor?: string }).accessor;
    const state = [...this.tokens.values()].find((t) => t.accessor === accessor);
    if (!state) return { status: 400, body: { errors: ['invalid accessor'] } };
    state.revoked = true;
    return { status: 204 };
  }

  private readKv(request: EmulatedRequest): EmulatedResponse {
    const data = this.kv.get(request.params.path!);
    if (!data) return { status: 404, body: { errors: [] } };
    return {
      status: 200,
      body: {
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: { data, metadata: { version: 1 } },
      },
    };
  }

  private readKey(request: EmulatedRequest): EmulatedResponse {
    const key = this.keys.get(request.params.name!);
    if (!key) return { status: 404, body: { errors: [] } };
    return {
      status: 200,
      body: {
        data: {
          name: request.params.name,
          type: 'ecdsa-p256',
          latest_version: 1,
          exportable: false,
          keys: { '1': { name: 'P-256', public_key: key.publicKeyPem } },
        },
      },
    };
  }

  private sign(request: EmulatedRequest): EmulatedResponse {
    const key = this.keys.get(request.params.name!);
    if (!key) return { status: 400, body: { errors: ['signing key not found'] } };
    const body = request.body as { input?: string; marshaling_algorithm?: string };
    const input = Buffer.from(body.input ?? '', 'base64');
    const jws = body.marshaling_algorithm === 'jws';
    const signature = sign('sha256', input, {
      key: key.privateKey,
      dsaEncoding: jws ? 'ieee-p1363' : 'der',
    });
    return {
      status: 200,
      body: {
        data: {
          signature: `vault:v1:${signature.toString(jws ? 'base64url' : 'base64')}`,
          key_version: 1,
        },
      },
    };
  }

  private revokeLease(request: EmulatedRequest): EmulatedResponse {
    this.revokedLeases.push((request.body as { lease_id?: string }).lease_id ?? '');
    return { status: 204 };
  }
}

function parseTtl(value: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value);
  if (!match) return 300;
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
}
