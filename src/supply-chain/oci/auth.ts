import { UpstreamError } from '../../errors.ts';
import { RegistryError } from './errors.ts';

/**
 * Registry credentials. Basic covers ECR too (`{ username: 'AWS', password: <token> }`); Basic
 * credentials are also what the bearer-token flow trades for a token. `{ token }` is a bearer
 * token obtained elsewhere and sent as is.
 */
export type RegistryCredentials = { username: string; password: string } | { token: string };

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Answers a registry's 401 challenges and remembers the outcome: HTTP Basic once the registry
 * asks for it, or a bearer token fetched from the challenge's realm for each repository.
 */
export class RegistryAuthorizer {
  private basicEverywhere = false;
  private readonly bearerByScope = new Map<string, string>();

  constructor(
    private readonly credentials: RegistryCredentials | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** The Authorization header to send for a request about `repository`, if any. */
  headerFor(repository: string | undefined): string | undefined {
    const credentials = this.credentials;
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
    const credentials = this.credentials;
    if (!challenge || (credentials && 'token' in credentials)) return false;

    // a concurrent request may have answered the challenge already
    const current = this.headerFor(repository);
    if (current && current !== sentAuthorization) return true;

    if (challenge.scheme === 'basic') {
      if (!credentials || this.basicEverywhere) return false;
      this.basicEverywhere = true;
      return true;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return false;
    const scope =
      challenge.params.scope ?? (repository ? `repository:${repository}:pull,push` : undefined);
    const token = await this.fetchToken(challenge.params, scope);
    this.bearerByScope.set(repository ?? '', token);
    return true;
  }

  private async fetchToken(params: Record<string, string>, scope: string | undefined) {
    const url = new URL(params.realm!);
    if (params.service) url.searchParams.set('service', params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (this.credentials && 'username' in this.credentials) {
      headers.Authorization = basicHeader(this.credentials);
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
