import { RegistryAuthorizer, type RegistryAuth } from './auth.ts';
import { sendHttp, type HttpRequestOptions, type RegistryResponse } from './http-request.ts';
import { RegistryError, registryErrorCode, type RegistryErrorCode } from './errors.ts';
import {
  defaultRetryPolicy,
  parseRetryAfter,
  RetryableRegistryFailure,
  withRetry,
  type RetryPolicy,
} from './retry.ts';

export interface TransportOptions {
  /** `host[:port]` */
  registry: string;
  /** Plain HTTP instead of HTTPS (the embedded registry, a test registry). */
  insecure?: boolean;
  /** Fixed credentials, or renewable ones read again when they expire or are refused. */
  auth?: RegistryAuth;
  retry?: Partial<RetryPolicy>;
  /** Longest silence while waiting on the registry (default 60 s). */
  timeoutMs?: number;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** The repository the request is about, for its credentials. */
  repository?: string;
  onBodySlice?: HttpRequestOptions['onBodySlice'];
}

/**
 * HTTP to one registry: base URL, credentials, timeouts, and turning what went wrong into
 * errors. Network failures, 5xx and 429 become {@link RetryableRegistryFailure}s (an
 * UpstreamError); `request` retries them, `send` makes a single try for callers that retry a
 * whole sequence (a blob upload session) themselves.
 */
export class RegistryTransport {
  readonly baseUrl: string;
  readonly retryPolicy: RetryPolicy;
  private readonly authorizer: RegistryAuthorizer;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.retryPolicy = { ...defaultRetryPolicy, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.authorizer = new RegistryAuthorizer(options.auth, this.timeoutMs);
  }

  /** Sends with retries on network failures, 5xx and 429; never on other 4xx. */
  request(method: string, target: string, options: SendOptions = {}): Promise<RegistryResponse> {
    return withRetry(this.retryPolicy, () => this.send(method, target, options));
  }

  /**
   * One try, answering 401 challenges: at most twice, as a first answer may only switch to
   * Basic and a second one read renewed credentials. `target` is a path or an absolute URL.
   */
  async send(method: string, target: string, options: SendOptions = {}): Promise<RegistryResponse> {
    const url = new URL(target, this.baseUrl);
    await this.authorizer.ensureFresh();
    let sent = this.authorizer.headerFor(options.repository);
    let response = await this.fetchOnce(method, url, options);
    for (let answers = 0; response.status === 401; answers++) {
      response.discard();
      const challenge = response.headers.get('www-authenticate');
      if (answers === 2 || !(await this.authorizer.answer(challenge, options.repository, sent))) {
        throw new RegistryError(
          'UNAUTHORIZED',
          `registry ${this.options.registry} refused the credentials`,
        );
      }
      sent = this.authorizer.headerFor(options.repository);
      response = await this.fetchOnce(method, url, options);
    }
    if (response.status >= 500 || response.status === 429) {
      response.discard();
      throw new RetryableRegistryFailure(
        `registry ${this.options.registry} answered ${response.status} to ${method} ${url.pathname}`,
        {
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        },
      );
    }
    return response;
  }

  /** One exchange, following redirects of reads (blob storage often answers GET with 307). */
  private async fetchOnce(
    method: string,
    url: URL,
    options: SendOptions,
  ): Promise<RegistryResponse> {
    let target = url;
    for (let redirects = 0; ; redirects++) {
      const response = await this.exchange(method, target, options, target.origin === url.origin);
      const location = response.headers.get('location');
      const isRedirect = [301, 302, 303, 307, 308].includes(response.status);
      if (!isRedirect || !location || !['GET', 'HEAD'].includes(method) || redirects >= 5) {
        return response;
      }
      response.discard();
      target = new URL(location, target);
    }
  }

  private async exchange(
    method: string,
    url: URL,
    options: SendOptions,
    sameOrigin: boolean,
  ): Promise<RegistryResponse> {
    const headers: Record<string, string> = { ...options.headers };
    // credentials never follow a redirect to another host
    const authorization = sameOrigin ? this.authorizer.headerFor(options.repository) : undefined;
    if (authorization) headers.Authorization = authorization;
    try {
      return await sendHttp(url, {
        method,
        headers,
        body: options.body,
        onBodySlice: options.onBodySlice,
        idleTimeoutMs: this.timeoutMs,
      });
    } catch (error) {
      throw new RetryableRegistryFailure(
        `registry ${this.options.registry} is unreachable (${networkCause(error)}); check the address and that it is running`,
        { cause: error },
      );
    }
  }
}

// What a status means when the registry sent no JSON body (HEAD requests, proxies).
const codeByStatus: Record<number, RegistryErrorCode> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  413: 'SIZE_INVALID',
};

/**
 * The registry's refusal as a {@link RegistryError}, from the spec's JSON error body when there
 * is one. `fallbackCode` names a status without a body (a 404 on HEAD).
 */
export async function refusal(
  response: RegistryResponse,
  what: string,
  fallbackCode?: RegistryErrorCode,
): Promise<RegistryError> {
  const text = await response.text().catch(() => '');
  let first: { code?: string; message?: string } | undefined;
  try {
    first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
  } catch {
    first = undefined;
  }
  const code = first?.code
    ? registryErrorCode(first.code)
    : (codeByStatus[response.status] ?? fallbackCode ?? 'REGISTRY_REJECTED');
  const reason = first?.message ?? `HTTP ${response.status}`;
  return new RegistryError(code, `${what}: ${reason}`, { details: { status: response.status } });
}

/** The target of `Link: <…>; rel="next"`, if any. */
export function nextLink(header: string | null): string | undefined {
  const match = header ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(header) : null;
  return match?.[1];
}

function networkCause(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ETIMEDOUT') return 'timed out';
  return code ?? (error instanceof Error ? error.message : String(error));
}
