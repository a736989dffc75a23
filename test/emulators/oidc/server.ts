import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { HttpEmulator, type EmulatedRequest, type EmulatedResponse } from '../http-emulator.ts';

/** The person the emulated issuer logs in at /authorize (no login page: a test has no browser). */
export interface EmulatedUser {
  sub: string;
  preferred_username: string;
  groups: string[];
}

/** Ways to spoil the next id_token, for the refusal tests. */
export interface IdTokenTampering {
  /** Sign with a key that is not in the JWKS. */
  forgedKey?: boolean;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  nonce?: string;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  user: EmulatedUser;
}

/**
 * An OpenID Provider on loopback, from OpenID Connect Core and Discovery and RFC 7636: discovery,
 * JWKS (one ES256 key), /authorize answering 302 back to the client with a code, and /token that
 * checks the client, the redirect URI and `code_verifier` against the S256 challenge (a code is
 * single-use). id_tokens are ES256 JWTs.
 */
export class OidcIssuerEmulator extends HttpEmulator {
  user: EmulatedUser = { sub: 'u-1', preferred_username: 'pat', groups: ['platform-team'] };
  /** Applied to the next id_token only. */
  tamper: IdTokenTampering = {};
  private readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly codes = new Map<string, IssuedCode>();

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    super();
    this.on('GET', '/.well-known/openid-configuration', () => ({
      status: 200,
      body: this.metadata(),
    }));
    this.on('GET', '/jwks', () => ({
      status: 200,
      body: {
        keys: [
          { ...this.key.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' },
        ],
      },
    }));
    this.on('GET', '/authorize', (request) => this.authorize(request));
    this.on('POST', '/token', (request) => this.token(request));
  }

  private metadata() {
    return {
      issuer: this.url,
      authorization_endpoint: `${this.url}/authorize`,
      token_endpoint: `${this.url}/token`,
      jwks_uri: `${this.url}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  }

  private authorize(request: EmulatedRequest): EmulatedResponse {
    const q = request.query;
    if (q.get('client_id') !== this.clientId)
      return { status: 400, body: { error: 'invalid_client' } };
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256') {
      return { status: 400, body: { error: 'invalid_request' } };
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      clientId: this.clientId,
      redirectUri: q.get('redirect_uri') ?? '',
      challenge: q.get('code_challenge') ?? '',
      nonce: q.get('nonce') ?? '',
      user: this.user,
    });
    const back = new URL(q.get('redirect_uri') ?? '');
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state') ?? '');
    return { status: 302, headers: { location: back.href } };
  }

  private token(request: EmulatedRequest): EmulatedResponse {
    const form = (request.body ?? {}) as Record<string, string>;
    if (!this.clientAuthenticated(request, form))
      return { status: 401, body: { error: 'invalid_client' } };
    const issued = this.codes.get(form.code ?? '');
    this.codes.delete(form.code ?? '');
    const verifier = form.code_verifier ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      !issued ||
      form.grant_type !== 'authorization_code' ||
      issued.redirectUri !== form.redirect_uri ||
      challenge !== issued.challenge
    ) {
      return { status: 400, body: { error: 'invalid_grant' } };
    }
    const tamper = this.tamper;
    this.tamper = {};
    return {
      status: 200,
      body: {
        access_token: randomBytes(16).toString('hex'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: this.idToken(issued, tamper),
      },
    };
  }

  private clientAuthenticated(request: EmulatedRequest, form: Record<string, string>): boolean {
    const basic = request.headers.authorization;
    if (basic?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(basic.slice(6), 'base64')
        .toString()
        .split(':')
        .map(decodeURIComponent);
      return id === this.clientId && secret === this.clientSecret;
    }
    return form.client_id === this.clientId && form.client_secret === this.clientSecret;
  }

  private idToken(issued: IssuedCode, tamper: IdTokenTampering): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.url,
      aud: tamper.audience ?? issued.clientId,
      iat: now,
      exp: now + (tamper.expiresIn ?? 300),
      nonce: tamper.nonce ?? issued.nonce,
      ...issued.user,
    };
    if (tamper.expiresIn !== undefined && tamper.expiresIn < 0) claims.iat = claims.exp - 300;
    return jwt(claims, tamper.forgedKey ? this.otherKey.privateKey : this.key.privateKey);
  }
}

function jwt(claims: object, key: KeyObject): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
