import type { ExecPluginConfig } from './config.ts';
import type { ClientCredentials, CredentialSource } from './credentials.ts';
import { pluginFailure } from './exec-failure.ts';
import { runPlugin, type PluginOutput } from './exec-process.ts';
import { execCredentialSchema } from './schema.ts';

/** A plugin silent for this long is broken, or waiting for a prompt it will never get. */
const defaultTimeoutMs = 60_000;

/** Renew this long before the credential's expiry, so no request leaves with a dying token. */
const renewBeforeMs = 30_000;

interface CachedCredential {
  credentials: ClientCredentials;
  /** Epoch milliseconds; absent: valid until the server refuses it. */
  expiresAt?: number;
}

/**
 * A kubeconfig credential plugin (client.authentication.k8s.io ExecCredential), as kubectl runs
 * it: the command with its args and env over this process's environment, KUBERNETES_EXEC_INFO
 * describing the request, the credential read from stdout. The credential is cached until shortly
 * before its `expirationTimestamp` (for ever without one) and dropped when the server answers 401;
 * concurrent requests share one run. The token is never logged or put in an error.
 */
export class ExecCredentialPlugin implements CredentialSource {
  readonly renewable = true;
  private cached: CachedCredential | undefined;
  private running: Promise<CachedCredential> | undefined;
  private readonly timeoutMs: number;
  private readonly fallback: ClientCredentials;

  constructor(
    readonly config: ExecPluginConfig,
    options: { timeoutMs?: number; fallback?: ClientCredentials } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.fallback = options.fallback ?? {};
  }

  async current(): Promise<ClientCredentials> {
    const cached = this.cached;
    if (cached && !this.expiring(cached)) return cached.credentials;
    return (await this.run()).credentials;
  }

  async renewAfterRejection(used: ClientCredentials): Promise<void> {
    // Another request may have renewed it already; only the refused credential is dropped.
    if (this.cached?.credentials === used) this.cached = undefined;
  }

  private expiring(cached: CachedCredential): boolean {
    return cached.expiresAt !== undefined && cached.expiresAt - renewBeforeMs <= Date.now();
  }

  private run(): Promise<CachedCredential> {
    this.running ??= runPlugin(this.config, this.timeoutMs)
      .then((output) => (this.cached = credentialOf(this.config, output, this.fallback)))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}

/** Reads the ExecCredential a plugin printed, refusing anything that carries no credential. */
function credentialOf(
  config: ExecPluginConfig,
  output: PluginOutput,
  fallback: ClientCredentials,
): CachedCredential {
  const junk = (why: string) => pluginFailure(config, `printed no ExecCredential (${why})`);
  let json: unknown;
  try {
    json = JSON.parse(output.stdout);
  } catch {
    throw junk('stdout is not JSON');
  }
  const parsed = execCredentialSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw junk(`${issue?.path.join('.') || 'output'}: ${issue?.message ?? 'invalid'}`);
  }
  const { apiVersion, status } = parsed.data;
  if (apiVersion !== config.apiVersion) {
    throw junk(`apiVersion ${apiVersion}, but the kubeconfig asks for ${config.apiVersion}`);
  }
  if (!status.clientCertificateData !== !status.clientKeyData) {
    throw junk('clientCertificateData and clientKeyData must come together');
  }
  if (!status.token && !status.clientCertificateData) throw junk('no token and no certificate');

  return {
    credentials: {
      token: status.token,
      clientCertPem: status.clientCertificateData ?? fallback.clientCertPem,
      clientKeyPem: status.clientKeyData ?? fallback.clientKeyPem,
    },
    expiresAt: status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : undefined,
  };
}
