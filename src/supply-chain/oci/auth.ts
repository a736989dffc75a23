import { UpstreamError } from '../../errors.ts';
import { RegistryError } from './errors.ts';

/**
 * Registry credentials. Basic covers ECR too (`{ username: 'AWS', password: <token> }`, see
 * parseRegistrySecret in credentials.ts); Basic credentials are also what the bearer-token flow trades
 * for a token. `{ token }` is a bearer token obtained elsewhere and sent as is.
 */
export type RegistryCredentials = { username: string; password: string } | { token: string };

/** Credentials as read from where they are kept, and when they stop working if that is known. */
export interface ReadCredentials {
  credentials: RegistryCredentials;
  expiresAt?: Date;
}

/**
 * Credentials that can be read again: an ECR token expires after 12 hours and a rotated secret
 * changes, so they are read anew when they expire or the registry refuses them.
 */
export interface RenewableCredentials {
  initial: ReadCredentials;
  /** Reads them again (the broker secret they came from). */
  reread: () => Promise<ReadCredentials>;
  /** Where they come from, for error messages: `broker secret registry/<host>`. */
  source: string;
}

export type RegistryAuth = RegistryCredentials | RenewableCredentials;

/** Credentials this close to their expiry are read again before they are sent. */
const renewBeforeExpiryMs = 60_000;

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Answers a registry's 401 challenges and remembers the outcome: HTTP Basic once the registry
 * asks for it, or a bearer token fetched from the challenge's realm for each repository.
 * Renewable credentials are read again before they expire and when the registry refuses them.
 */
export class RegistryAuthorizer {
  private basicEverywhere = false;
  private readonly bearerByScope = new Map<string, string>();
  private current: ReadCredentials | undefined;
  private renewal: Promise<void> | undefined;

  constructor(
    private readonly auth: RegistryAuth | undefined,
    private readonly timeoutMs: number,
  ) {
    if (auth) this.current = 'initial' in auth ? auth.initial : { credentials: auth };
  }

  /**
   * Reads renewable credentials again when they are about to expire; call before sending.
   * Refuses when even the credentials read again have expired: sending them cannot work.
   */
  async ensureFresh(): Promise<void> {
    const expiresAt = this.current?.expiresAt;
    if (!expiresAt || expiresAt.getTime() - Date.now() > renewBeforeExpiryMs) return;
    if (this.auth && 'reread' in this.auth) await this.renew();
    const renewed = this.current?.expiresAt;
    if (renewed && renewed.getTime() <= Date.now()) {
      const source = this.auth && 'source' in this.auth ? this.auth.source : 'the credentials';
      throw new RegistryError(
        'CREDENTIALS_EXPIRED',
        `the registry token in ${source} expired at ${renewed.toISOString()}; store a fresh one (aws ecr get-authorization-token)`,
      );
    }
  }

  /** The Authorization header to send for a request about `repository`, if any. */
  headerFor(repository: string | undefined): string | undefined {
    const credentials = this.current?.credentials;
    if (credentials && 'token' in credentials) return `Bearer ${credentials.token}`;
    const bearer = this.bearerByScope.get(repository ?? '');
    if (bearer) return `Bearer ${bearer}`;
    if (this.basicEverywhere && credentials) return basicHeader(credentials);
    return undefined;
  }

  /**
   * Handles a `WWW-Authenticate` challenge to a request sent with `sentAuthorization`; true when
   * the request is worth sending again with new credentials, false when nothing more can help.
   */
  async answer(
    header: string | null,
    repository: string | undefined,
    sentAuthorization: string | undefined,
  ): Promise<boolean> {
    const challenge = header ? parseChallenge(header) : undefined;
    if (!challenge) return false;

    // a concurrent request may have answered the challenge already
    const current = this.headerFor(repository);
    if (current && current !== sentAuthorization) return true;
    // refused credentials may have expired early or been rotated since they were read
    if (sentAuthorization && this.auth && 'reread' in this.auth) await this.renew();

    const credentials = this.current?.credentials;
    if (credentials && 'token' in credentials) return this.headerFor(repository) !== current;
    if (challenge.scheme === 'basic') {
      if (!credentials) return false;
      this.basicEverywhere = true;
      return this.headerFor(repository) !== current;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return false;
    const scope =
      challenge.params.scope ?? (repository ? `repository:${repository}:pull,push` : undefined);
    const token = await this.fetchToken(challenge.params, scope);
    this.bearerByScope.set(repository ?? '', token);
    return true;
  }

  /** One read at a time, however many requests need it. */
  private renew(): Promise<void> {
    const auth = this.auth;
    if (!auth || !('reread' in auth)) return Promise.resolve();
    this.renewal ??= auth
      .reread()
      .then((read) => {
        this.current = read;
      })
      .finally(() => {
        this.renewal = undefined;
      });
    return this.renewal;
  }

  private async fetchToken(params: Record<string, string>, scope: string | undefined) {
    const url = new URL(params.realm!);
    if (params.service) url.searchParams.set('service', params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    const credentials = this.current?.credentials;
    if (credentials && 'username' in credentials) {
      headers.Authorization = basicHeader(credentials);
    }

    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new UpstreamError('registry', `token service ${url.host} is unreachable`, {
        cause: error,
      });
    }
    if (!response.ok) {
      throw new RegistryError(
        'UNAUTHORIZED',
        `token service refused the credentials (HTTP ${response.status})`,
      );
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError('UNAUTHORIZED', 'token service answered without a token');
    return token;
  }
}

function basicHeader(credentials: { username: string; password: string }): string {
  const encoded = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return `Basic ${encoded}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (one challenge; quoted or bare values). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] ?? param[3] ?? '';
  }
  return { scheme: match[1]!.toLowerCase(), params };
}
