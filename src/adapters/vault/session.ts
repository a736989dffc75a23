import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { messageOf, UpstreamError } from '../../errors.ts';
import { HttpClient, type HttpRequest } from '../http/client.ts';
import { VaultError } from './errors.ts';
import { authResponseSchema, errorSchema } from './schema.ts';

export interface VaultSessionOptions {
  address: string;
  role: string;
  authMount: string;
  serviceAccountTokenPath: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  clock?: () => number;
}

/**
 * changeproof's own Vault session: Kubernetes auth with the pod's service-account token, renewed
 * by logging in again shortly before it expires or when Vault says it no longer holds it. Calls
 * made with another token (a lease's child token) go through {@link callAs}.
 */
export class VaultSession {
  readonly http: HttpClient;
  private token?: { value: string; expiresAt: number };
  private readonly clock: () => number;

  constructor(private readonly options: VaultSessionOptions) {
    this.clock = options.clock ?? Date.now;
    this.http = new HttpClient({
      system: 'vault',
      baseUrl: `${options.address.replace(/\/$/, '')}/v1/`,
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 4,
      backoffMs: options.backoffMs ?? 250,
    });
  }

  /** A call with changeproof's token; one re-login when Vault answers 403 for an expired token. */
  async call<T extends z.ZodType>(schema: T, request: HttpRequest): Promise<z.infer<T>> {
    const first = await this.attempt(schema, request, await this.currentToken());
    if (first.ok) return first.value;
    this.token = undefined;
    const second = await this.attempt(schema, request, await this.currentToken());
    if (second.ok) return second.value;
    throw second.error;
  }

  /** A call with `token` (a lease's child token); no re-login: an expired lease fails closed. */
  async callAs<T extends z.ZodType>(
    token: string,
    schema: T,
    request: HttpRequest,
  ): Promise<z.infer<T>> {
    const result = await this.attempt(schema, request, token);
    if (result.ok) return result.value;
    throw result.error;
  }

  private async attempt<T extends z.ZodType>(
    schema: T,
    request: HttpRequest,
    token: string,
  ): Promise<{ ok: true; value: z.infer<T> } | { ok: false; error: Error }> {
    const response = await this.http.request({ ...request, headers: { 'x-vault-token': token } });
    if (response.status === 204) return { ok: true, value: schema.parse({}) };
    if (response.status >= 400)
      return { ok: false, error: vaultRefusal(request, response.status, response.body) };
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      return {
        ok: false,
        error: new UpstreamError(
          'vault',
          `vault answered ${request.path} with an unexpected shape`,
          { code: 'UPSTREAM_REJECTED', cause: parsed.error },
        ),
      };
    }
    return { ok: true, value: parsed.data };
  }

  private async currentToken(): Promise<string> {
    // Log in again a little before expiry so no call races the token's end.
    if (this.token && this.token.expiresAt - 5000 > this.clock()) return this.token.value;
    const jwt = this.serviceAccountToken();
    const response = await this.http.request({
      method: 'POST',
      path: `auth/${this.options.authMount}/login`,
      body: { role: this.options.role, jwt },
      retry: true,
    });
    const auth = authResponseSchema.safeParse(response.body);
    if (response.status !== 200 || !auth.success) {
      throw new VaultError(
        'VAULT_LOGIN_FAILED',
        `vault refused the Kubernetes login for role ${this.options.role} (HTTP ${response.status}); check the role's bound service account`,
        { category: 'upstream' },
      );
    }
    this.token = {
      value: auth.data.auth.client_token,
      expiresAt: this.clock() + auth.data.auth.lease_duration * 1000,
    };
    return this.token.value;
  }

  private serviceAccountToken(): string {
    try {
      return readFileSync(this.options.serviceAccountTokenPath, 'utf8').trim();
    } catch (error) {
      throw new VaultError(
        'VAULT_TOKEN_FILE',
        `cannot read the service-account token at ${this.options.serviceAccountTokenPath} (${messageOf(error)}); mount it or set adapters.vault.serviceAccountTokenPath`,
        { category: 'usage' },
      );
    }
  }
}

function vaultRefusal(request: HttpRequest, status: number, body: unknown): VaultError {
  const errors = errorSchema.safeParse(body);
  const detail = errors.success ? errors.data.errors.join('; ') : '';
  const code = status === 404 ? 'VAULT_NOT_FOUND' : 'VAULT_DENIED';
  return new VaultError(
    code,
    `vault refused ${request.method} ${request.path} (HTTP ${status}${detail ? `: ${detail}` : ''})`,
    {
      category: status === 404 ? 'not-found' : 'forbidden',
      details: { status },
    },
  );
}
