import type { z } from 'zod';
import { UpstreamError } from '../../errors.ts';
import { HttpClient, type HttpRequest } from '../http/client.ts';
import { GithubError } from './errors.ts';

export interface GithubApiOptions {
  apiUrl: string;
  owner: string;
  repo: string;
  /** The token for an action by `actor` (GITHUB_TOKEN when the actor has none of its own). */
  tokenFor: (actor?: string) => string | undefined;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/**
 * The REST calls the forge makes, scoped to one repository. Answers are validated with the
 * schema given; 401/403 and other refusals become GithubErrors, outages UpstreamErrors.
 */
export class GithubApi {
  private readonly clients = new Map<string, HttpClient>();

  constructor(private readonly options: GithubApiOptions) {}

  /** `/repos/{owner}/{repo}` + `path`. */
  repoPath(path: string): string {
    return `/repos/${encodeURIComponent(this.options.owner)}/${encodeURIComponent(this.options.repo)}${path}`;
  }

  async call<T extends z.ZodType>(
    schema: T,
    request: HttpRequest & { actor?: string },
  ): Promise<z.infer<T>> {
    const response = await this.client(request.actor).request(request);
    if (response.status === 401 || response.status === 403) {
      throw new GithubError(
        'GITHUB_UNAUTHORIZED',
        `github refused the token (HTTP ${response.status}); check GITHUB_TOKEN and its repository permissions`,
        { category: 'upstream', details: { status: response.status } },
      );
    }
    if (response.status >= 400) {
      const message = (response.body as { message?: string } | undefined)?.message ?? '';
      throw new GithubError(
        'GITHUB_REFUSED',
        `github refused ${request.method} ${request.path} (HTTP ${response.status}${message ? `: ${message}` : ''})`,
        {
          category: response.status === 404 ? 'not-found' : 'refused',
          details: { status: response.status, message },
        },
      );
    }
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new UpstreamError(
        'github',
        `github answered ${request.path} with an unexpected shape`,
        {
          code: 'UPSTREAM_REJECTED',
          cause: parsed.error,
        },
      );
    }
    return parsed.data;
  }

  /** Every page of a list endpoint (`per_page=100`, following `page`). */
  async listAll<T extends z.ZodType>(
    schema: T,
    path: string,
    actor?: string,
  ): Promise<z.infer<T>[]> {
    const items: z.infer<T>[] = [];
    for (let page = 1; page < 100; page++) {
      const batch = (await this.call(schema.array(), {
        method: 'GET',
        path,
        query: { per_page: 100, page },
        actor,
      })) as z.infer<T>[];
      items.push(...batch);
      if (batch.length < 100) break;
    }
    return items;
  }

  private client(actor?: string): HttpClient {
    const token = this.options.tokenFor(actor) ?? this.options.tokenFor(undefined);
    if (!token) {
      throw new GithubError('GITHUB_UNAUTHORIZED', 'no GitHub token; set GITHUB_TOKEN', {
        category: 'unauthenticated',
      });
    }
    let client = this.clients.get(token);
    if (!client) {
      client = new HttpClient({
        system: 'github',
        baseUrl: this.options.apiUrl,
        timeoutMs: this.options.timeoutMs,
        retries: this.options.retries,
        backoffMs: this.options.backoffMs,
        headers: () => ({
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
        }),
      });
      this.clients.set(token, client);
    }
    return client;
  }
}
