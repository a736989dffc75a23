import { UpstreamError } from '../../errors.ts';

/** One HTTP answer from an outside system, its body parsed as JSON when it is JSON. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** `application/x-www-form-urlencoded` body instead of JSON. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * Whether a 5xx, 429 or timeout may be retried. Defaults to true for GET, PUT and DELETE; a POST
   * is retried only when the caller knows it is safe (it carries an idempotency key or reads).
   */
  retry?: boolean;
}

export interface HttpClientOptions {
  /** The system's name in errors: github, servicenow, vault, datadog … */
  system: string;
  baseUrl: string;
  /** Per attempt; defaults to 10 s. */
  timeoutMs?: number;
  /** Attempts after the first; defaults to 3. */
  retries?: number;
  /** First backoff delay, doubled per attempt; defaults to 200 ms. */
  backoffMs?: number;
  /** Longest wait a Retry-After may ask for before the call gives up; defaults to 30 s. */
  maxRetryAfterMs?: number;
  /** Headers for every request (credentials), read per request so a refreshed token is used. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  sleep?: (ms: number) => Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'PUT', 'DELETE']);

/**
 * A small JSON-over-HTTP client for the connected adapters. Upstream faults (refused connection,
 * timeout, 5xx, 429) are retried with exponential backoff where the request is safe to repeat and
 * become an {@link UpstreamError} when retries run out; every other answer is returned for the
 * adapter to map, so a 401 or 404 is never mistaken for success.
 */
export class HttpClient {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HttpClientOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get system(): string {
    return this.options.system;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const retryable = request.retry ?? IDEMPOTENT.has(request.method);
    const attempts = 1 + (retryable ? (this.options.retries ?? 3) : 0);
    let lastFault = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      const outcome = await this.attempt(request);
      if ('response' in outcome && !isRetryableStatus(outcome.response.status)) {
        return outcome.response;
      }
      lastFault = 'response' in outcome ? `HTTP ${outcome.response.status}` : outcome.fault;
      if (attempt === attempts - 1) break;
      await this.sleep(
        this.delayBefore(attempt, 'response' in outcome ? outcome.response : undefined),
      );
    }
    throw new UpstreamError(
      this.options.system,
      `${this.options.system} is unavailable (${lastFault} on ${request.method} ${request.path} after ${attempts} attempt${attempts > 1 ? 's' : ''}); retry later`,
      { details: { method: request.method, path: request.path, fault: lastFault } },
    );
  }

  private async attempt(
    request: HttpRequest,
  ): Promise<{ response: HttpResponse } | { fault: string }> {
    // An empty path is the base URL itself (a webhook endpoint), without an added slash.
    const url = request.path
      ? new URL(request.path.replace(/^\//, ''), withSlash(this.options.baseUrl))
      : new URL(this.options.baseUrl);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await this.options.headers?.()),
      ...request.headers,
    };
    let body: string | undefined;
    if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(request.body);
    }
    try {
      const response = await fetch(url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      return {
        response: {
          status: response.status,
          headers: response.headers,
          body: await readBody(response),
        },
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      return { fault: name === 'TimeoutError' ? 'timeout' : 'connection failed' };
    }
  }

  private delayBefore(attempt: number, response?: HttpResponse): number {
    const retryAfter = response?.headers.get('retry-after');
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
      if (ms >= 0) return Math.min(ms, this.options.maxRetryAfterMs ?? 30_000);
    }
    return (this.options.backoffMs ?? 200) * 2 ** attempt;
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Basic authentication header value. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
