import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UpstreamError } from '../../errors.ts';
import type { KubeClientConfig } from './config.ts';
import {
  credentialSourceFor,
  type ClientCredentials,
  type CredentialOptions,
  type CredentialSource,
} from './credentials.ts';
import { KubeError } from './errors.ts';
import { statusSchema } from './schema.ts';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
}

export interface TransportOptions extends CredentialOptions {
  /** How long one request may wait for an answer. */
  timeoutMs?: number;
}

/**
 * HTTP to one API server with the config's CA and the credentials of its
 * {@link CredentialSource} (a static token or certificate, or a credential plugin's), over a
 * keep-alive agent. A refusal (4xx) becomes a {@link KubeError} with the Status reason; a fault
 * of the server (5xx, timeout, connection refused or reset) an {@link UpstreamError}.
 */
export class KubeTransport {
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly credentials: CredentialSource;
  private agent: HttpAgent | undefined;
  private agentCertPem: string | undefined;
  /** Agents of certificates a plugin has since replaced; their watches may still be open. */
  private readonly retiredAgents: HttpAgent[] = [];

  constructor(
    readonly config: KubeClientConfig,
    options: TransportOptions = {},
  ) {
    this.base = new URL(config.server);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.credentials = credentialSourceFor(config, options);
  }

  /** Sends one request and parses the JSON answer. */
  async request<T>(request: KubeRequest): Promise<T> {
    const response = await this.send(request, this.timeoutMs);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
    throw failureOf(status, text, `${request.method} ${request.path}`);
  }

  /** Opens a streaming GET (a watch); the caller reads and ends the response. */
  async stream(path: string): Promise<IncomingMessage> {
    // No idle timeout: a quiet watch is not a dead one; the server ends it after its own timeout.
    const response = await this.send({ method: 'GET', path }, 0);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    throw failureOf(status, await readAll(response), `GET ${path}`);
  }

  close(): void {
    this.agent?.destroy();
    for (const agent of this.retiredAgents) agent.destroy();
  }

  /**
   * Opens the request with the current credentials. A 401 to a plugin's credential means it was
   * revoked or rotated early: the plugin runs again and the request is tried once more.
   */
  private async send(request: KubeRequest, timeoutMs: number): Promise<IncomingMessage> {
    const used = await this.credentials.current();
    const response = await this.open(request, timeoutMs, used);
    if (response.statusCode !== 401 || !this.credentials.renewable) return response;

    response.resume();
    await this.credentials.renewAfterRejection(used);
    return this.open(request, timeoutMs, await this.credentials.current());
  }

  /** The keep-alive agent for a client certificate; a new one when a plugin issues a new one. */
  private agentFor(credentials: ClientCredentials): HttpAgent {
    if (this.agent && credentials.clientCertPem === this.agentCertPem) return this.agent;
    if (this.agent) this.retiredAgents.push(this.agent);
    const tls = {
      keepAlive: true,
      ca: this.config.caPem,
      cert: credentials.clientCertPem,
      key: credentials.clientKeyPem,
      rejectUnauthorized: !this.config.insecureSkipTlsVerify,
    };
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent(tls) : new HttpAgent(tls);
    this.agentCertPem = credentials.clientCertPem;
    return this.agent;
  }

  private open(
    request: KubeRequest,
    timeoutMs: number,
    credentials: ClientCredentials,
  ): Promise<IncomingMessage> {
    const url = new URL(request.path, this.base);
    const body =
      request.body === undefined
        ? undefined
        : typeof request.body === 'string'
          ? request.body
          : JSON.stringify(request.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credentials.token) headers.authorization = `Bearer ${credentials.token}`;
    if (body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const what = `${request.method} ${url.pathname}`;

    return new Promise((resolve, reject) => {
      const agent = this.agentFor(credentials);
      const outgoing = send(url, { method: request.method, headers, agent }, resolve);
      if (timeoutMs > 0) {
        outgoing.setTimeout(timeoutMs, () =>
          outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        );
      }
      outgoing.on('error', (error) =>
        reject(
          new UpstreamError(
            'kubernetes',
            `cluster ${this.config.name} unreachable: ${what}: ${error.message}`,
            {
              cause: error,
            },
          ),
        ),
      );
      outgoing.end(body);
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) =>
      reject(
        new UpstreamError('kubernetes', `response cut off: ${error.message}`, { cause: error }),
      ),
    );
  });
}

function failureOf(status: number, text: string, what: string): Error {
  let parsed: ReturnType<typeof statusSchema.safeParse> | undefined;
  try {
    parsed = statusSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  const message = parsed?.success && parsed.data.message ? parsed.data.message : text.slice(0, 200);
  if (status >= 500 || status === 429) {
    return new UpstreamError('kubernetes', `${what}: ${status} ${message}`, {
      details: { status, reason: parsed?.success ? parsed.data.reason : undefined },
    });
  }
  return KubeError.fromStatus(status, parsed?.success ? parsed.data.reason : undefined, message);
}
