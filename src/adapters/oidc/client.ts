import * as oidc from 'openid-client';
import { UpstreamError } from '../../errors.ts';
import { OidcError } from './errors.ts';

/** What the client needs to know about the issuer and itself. */
export interface OidcClientOptions {
  issuer: string;
  clientId: string;
  /** From the environment only; absent for a public client, which relies on PKCE alone. */
  clientSecret?: string;
  scopes: string[];
  /** Allow an `http:` issuer (tests against the emulator on loopback); never in production. */
  allowHttpIssuer?: boolean;
}

/** The secrets of one login in flight, kept until the callback (sealed in a cookie). */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUrl: string;
}

/**
 * The relying party: authorization code flow with PKCE (S256), state and nonce, and an id_token
 * whose signature is checked against the issuer's JWKS (openid-client skips that for token
 * endpoint responses unless non-repudiation checks are on) together with iss, aud, exp and nonce.
 */
export class OidcClient {
  private configuration?: Promise<oidc.Configuration>;

  constructor(private readonly options: OidcClientOptions) {}

  /** The issuer's authorization URL to send the browser to, and what the callback will need. */
  async begin(redirectUrl: string): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.discovered();
    const pending: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      redirectUrl,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUrl,
      scope: this.options.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, pending };
  }

  /**
   * Exchanges the callback's code and returns the verified id_token claims.
   * @throws OidcError LOGIN_REFUSED when anything does not match or verify.
   */
  async finish(callbackQuery: URLSearchParams, pending: PendingLogin): Promise<oidc.IDToken> {
    const config = await this.discovered();
    const current = new URL(pending.redirectUrl);
    for (const [name, value] of callbackQuery) current.searchParams.append(name, value);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('the token response holds no id_token');
      return claims;
    } catch (error) {
      throw new OidcError('LOGIN_REFUSED', `login refused: ${describe(error)}`, error);
    }
  }

  private discovered(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      // Retry discovery on the next login instead of remembering an outage.
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret, allowHttpIssuer } = this.options;
    try {
      const config = await oidc.discovery(
        new URL(issuer),
        clientId,
        undefined,
        clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(),
        allowHttpIssuer ? { execute: [oidc.allowInsecureRequests] } : {},
      );
      oidc.enableNonRepudiationChecks(config);
      return config;
    } catch (error) {
      throw new UpstreamError('oidc', `OIDC discovery at ${issuer} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}
