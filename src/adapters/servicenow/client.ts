import type { z } from 'zod';
import { UpstreamError } from '../../errors.ts';
import { basicAuth, HttpClient, type HttpRequest } from '../http/client.ts';
import { ServiceNowError } from './errors.ts';
import { oauthTokenSchema } from './schema.ts';

/** Credentials, from the environment only. */
export type ServiceNowCredentials =
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'oauth'; user: string; password: string; clientId: string; clientSecret: string };

/** Reads SERVICENOW_USER/SERVICENOW_PASSWORD (+ SERVICENOW_CLIENT_ID/SECRET for OAuth). */
export function servicenowCredentialsFromEnv(
  auth: 'basic' | 'oauth',
  env: NodeJS.ProcessEnv = process.env,
): ServiceNowCredentials {
  const user = env.SERVICENOW_USER;
  const password = env.SERVICENOW_PASSWORD;
  if (!user || !password) {
    throw new ServiceNowError(
      'CREDENTIALS_MISSING',
      'set SERVICENOW_USER and SERVICENOW_PASSWORD',
      { category: 'usage' },
    );
  }
  if (auth === 'basic') return { kind: 'basic', user, password };
  const clientId = env.SERVICENOW_CLIENT_ID;
  const clientSecret = env.SERVICENOW_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new ServiceNowError(
      'CREDENTIALS_MISSING',
      'set SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET for OAuth',
      { category: 'usage' },
    );
  }
  return { kind: 'oauth', user, password, clientId, clientSecret };
}

export interface ServiceNowClientOptions {
  instanceUrl: string;
  credentials: ServiceNowCredentials;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/**
 * Authenticated JSON calls to one ServiceNow instance. OAuth uses the password grant at
 * `/oauth_token.do` and fetches a new token when the instance answers 401 once.
 */
export class ServiceNowClient {
  private readonly http: HttpClient;
  private accessToken?: string;

  constructor(private readonly options: ServiceNowClientOptions) {
    this.http = new HttpClient({
      system: 'servicenow',
      baseUrl: options.instanceUrl,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
    });
  }

  async call<T extends z.ZodType>(schema: T, request: HttpRequest): Promise<z.infer<T>> {
    let response = await this.http.request({ ...request, headers: await this.authHeaders() });
    if (response.status === 401 && this.options.credentials.kind === 'oauth') {
      this.accessToken = undefined;
      response = await this.http.request({ ...request, headers: await this.authHeaders() });
    }
    if (response.status === 401 || response.status === 403) {
      throw new ServiceNowError(
        'SERVICENOW_UNAUTHORIZED',
        `servicenow refused the credentials (HTTP ${response.status}); check SERVICENOW_USER and its roles`,
        { category: 'upstream' },
      );
    }
    if (response.status >= 400) {
      const detail = (response.body as { error?: { message?: string } } | undefined)?.error
        ?.message;
      throw new ServiceNowError(
        'SERVICENOW_REFUSED',
        `servicenow refused ${request.method} ${request.path} (HTTP ${response.status}${detail ? `: ${detail}` : ''})`,
        {
          category: response.status === 404 ? 'not-found' : 'refused',
          details: { status: response.status },
        },
      );
    }
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new UpstreamError(
        'servicenow',
        `servicenow answered ${request.path} with an unexpected shape`,
        { code: 'UPSTREAM_REJECTED', cause: parsed.error },
      );
    }
    return parsed.data;
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const credentials = this.options.credentials;
    if (credentials.kind === 'basic')
      return { authorization: basicAuth(credentials.user, credentials.password) };
    this.accessToken ??= await this.fetchToken(credentials);
    return { authorization: `Bearer ${this.accessToken}` };
  }

  private async fetchToken(
    credentials: Extract<ServiceNowCredentials, { kind: 'oauth' }>,
  ): Promise<string> {
    const response = await this.http.request({
      method: 'POST',
      path: '/oauth_token.do',
      form: {
        grant_type: 'password',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        username: credentials.user,
        password: credentials.password,
      },
      // Asking for a token twice is harmless.
      retry: true,
    });
    const token = oauthTokenSchema.safeParse(response.body);
    if (response.status !== 200 || !token.success) {
      throw new ServiceNowError(
        'SERVICENOW_UNAUTHORIZED',
        `servicenow refused the OAuth password grant (HTTP ${response.status}); check SERVICENOW_CLIENT_ID and the user`,
        { category: 'upstream' },
      );
    }
    return token.data.access_token;
  }
}
