import type { OidcSettings } from '../../config/adapter-settings.ts';
import { UsageError } from '../../errors.ts';
import type { Identity } from '../../domain/identity.ts';
import { OidcClient, type PendingLogin } from './client.ts';
import { OidcError } from './errors.ts';
import { OidcIdentity, rolesFromGroups, type SessionClaims } from './identity.ts';
import { CookieSealer, sessionSecret } from './sealed-cookie.ts';

/** The environment variable of the OIDC client secret; never in changeproof.yaml. */
export const CLIENT_SECRET_VARIABLE = 'OIDC_CLIENT_SECRET';
/** How long the browser has to come back from the issuer. */
export const LOGIN_TTL_SECONDS = 600;
/** How long a dashboard session lasts before logging in again. */
export const DEFAULT_SESSION_TTL_SECONDS = 3600;

export interface OidcLoginOptions {
  settings: OidcSettings;
  clientSecret?: string;
  /** The secret both cookies are sealed with (see {@link sessionSecret}). */
  secret: Buffer;
  sessionTtlSeconds?: number;
  allowHttpIssuer?: boolean;
}

/**
 * Dashboard login against an OIDC issuer: starts logins, finishes them into sealed session
 * values, and gives the identity that accepts those sessions.
 */
export class OidcLogin {
  readonly sessionTtlSeconds: number;
  private readonly client: OidcClient;
  private readonly logins: CookieSealer;
  private readonly sessions: CookieSealer;

  constructor(private readonly options: OidcLoginOptions) {
    const { settings } = options;
    this.client = new OidcClient({
      issuer: settings.issuer,
      clientId: settings.clientId,
      scopes: settings.scopes,
      ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
      ...(options.allowHttpIssuer ? { allowHttpIssuer: true } : {}),
    });
    this.logins = new CookieSealer(options.secret, 'login');
    this.sessions = new CookieSealer(options.secret, 'session');
    this.sessionTtlSeconds = options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  }

  /** The configured callback URL, or the one this request reached the server at. */
  redirectUrlFor(requestOrigin: string): string {
    return this.options.settings.redirectUrl ?? `${requestOrigin}/auth/callback`;
  }

  /** Where to send the browser, and the sealed login state to set as a short-lived cookie. */
  async start(redirectUrl: string): Promise<{ location: string; loginCookie: string }> {
    const { url, pending } = await this.client.begin(redirectUrl);
    return { location: url.href, loginCookie: this.logins.seal(pending, LOGIN_TTL_SECONDS) };
  }

  /**
   * Verifies the callback against the login cookie and returns the sealed session value.
   * @throws OidcError LOGIN_REFUSED (401) or NO_ROLE (403); no session is made either way.
   */
  async finish(
    query: URLSearchParams,
    loginCookie: string | undefined,
  ): Promise<{ session: string; claims: SessionClaims }> {
    const pending = this.logins.open<PendingLogin>(loginCookie);
    if (!pending) {
      throw new OidcError(
        'LOGIN_REFUSED',
        'no login in progress (or it expired); start at /auth/login',
      );
    }
    if (query.get('error')) {
      throw new OidcError('LOGIN_REFUSED', `the issuer refused the login: ${query.get('error')}`);
    }
    const idToken = await this.client.finish(query, pending);
    const { settings } = this.options;
    const username = idToken[settings.usernameClaim];
    const name = typeof username === 'string' && username ? username : idToken.sub;
    const roles = rolesFromGroups(idToken[settings.groupsClaim], settings.roleMap);
    if (roles.length === 0) {
      throw new OidcError(
        'NO_ROLE',
        `${name} is in no group that oidc.roleMap gives a changeproof role`,
      );
    }
    const claims: SessionClaims = { name, roles, issuer: idToken.iss, subject: idToken.sub };
    return { session: this.sessions.seal(claims, this.sessionTtlSeconds), claims };
  }

  /** The identity of the API: these sessions, else `fallback` (local bearer tokens). */
  identity(fallback: Identity): Identity {
    return new OidcIdentity(this.sessions, fallback);
  }
}

/**
 * The OIDC login changeproof.yaml selects (`adapters.identity: oidc`), with the client secret from
 * `OIDC_CLIENT_SECRET` (optional: a public client) and the session secret from the environment or
 * the workspace keys folder.
 */
export function buildOidcLogin(
  settings: OidcSettings | undefined,
  deps: { env: NodeJS.ProcessEnv; keysDir?: string; allowHttpIssuer?: boolean },
): OidcLogin {
  if (!settings) throw new UsageError('adapters.identity: oidc needs an adapters.oidc block');
  const clientSecret = deps.env[CLIENT_SECRET_VARIABLE];
  return new OidcLogin({
    settings,
    secret: sessionSecret(deps.env, deps.keysDir),
    ...(clientSecret ? { clientSecret } : {}),
    ...(deps.allowHttpIssuer ? { allowHttpIssuer: true } : {}),
  });
}
