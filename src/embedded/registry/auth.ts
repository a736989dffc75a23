import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OciHttpError } from './errors.ts';
import { sendJson } from './http-util.ts';

/**
 * Who may use the embedded registry.
 * - `{ username, password }`: HTTP Basic on every request.
 * - `{ username, password, tokenAuth: true }`: the Docker token flow; the registry challenges
 *   with `Bearer realm=<url>/token`, and its token endpoint trades Basic credentials for a
 *   short-lived token. Tokens are not scoped to repositories.
 * - `{ bearerToken }`: a static token sent as `Authorization: Bearer <token>`.
 */
export type RegistryAuth =
  { username: string; password: string; tokenAuth?: boolean } | { bearerToken: string };

const tokenLifetimeSeconds = 300;
const service = 'changeproof-registry';

export class RegistryAuthenticator {
  private readonly issuedTokens = new Map<string, number>();

  constructor(
    private readonly auth: RegistryAuth | undefined,
    private readonly realm: () => string,
  ) {}

  /** Throws the spec's 401 with a challenge unless the request carries valid credentials. */
  authorize(request: IncomingMessage, scope: string | undefined): void {
    if (!this.auth || this.accepts(request.headers.authorization ?? '')) return;
    throw new OciHttpError(401, 'UNAUTHORIZED', 'authentication required', {
      'WWW-Authenticate': this.challenge(scope),
    });
  }

  /** The token endpoint: Basic credentials in, a bearer token out. */
  issueToken(request: IncomingMessage, response: ServerResponse): void {
    const auth = this.auth;
    if (!auth || !('username' in auth) || !auth.tokenAuth) {
      throw new OciHttpError(404, 'UNSUPPORTED', 'this registry does not issue tokens');
    }
    if (!this.acceptsBasic(request.headers.authorization ?? '', auth)) {
      throw new OciHttpError(401, 'UNAUTHORIZED', 'wrong username or password', {
        'WWW-Authenticate': `Basic realm="${service}"`,
      });
    }
    const now = Date.now();
    for (const [issued, expiresAt] of this.issuedTokens) {
      if (expiresAt <= now) this.issuedTokens.delete(issued);
    }
    const token = randomBytes(32).toString('base64url');
    this.issuedTokens.set(token, now + tokenLifetimeSeconds * 1000);
    const issuedAt = new Date().toISOString();
    sendJson(response, 200, {
      token,
      access_token: token,
      expires_in: tokenLifetimeSeconds,
      issued_at: issuedAt,
    });
  }

  private accepts(header: string): boolean {
    const auth = this.auth!;
    if ('bearerToken' in auth) return sameSecret(bearerOf(header), auth.bearerToken);
    if (!auth.tokenAuth) return this.acceptsBasic(header, auth);

    const expiresAt = this.issuedTokens.get(bearerOf(header));
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  private acceptsBasic(header: string, auth: { username: string; password: string }): boolean {
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    return (
      separator !== -1 &&
      sameSecret(decoded.slice(0, separator), auth.username) &&
      sameSecret(decoded.slice(separator + 1), auth.password)
    );
  }

  private challenge(scope: string | undefined): string {
    const auth = this.auth!;
    if ('username' in auth && !auth.tokenAuth) return `Basic realm="${service}"`;
    const realm = 'bearerToken' in auth ? service : this.realm();
    const scopePart = scope ? `,scope="${scope}"` : '';
    return `Bearer realm="${realm}",service="${service}"${scopePart}`;
  }
}

function bearerOf(header: string): string {
  return header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
}

// Comparing hashes keeps the comparison constant-time whatever the lengths.
function sameSecret(given: string, expected: string): boolean {
  const hash = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(hash(given), hash(expected));
}
