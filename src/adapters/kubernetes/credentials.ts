import type { KubeClientConfig } from './config.ts';
import { ExecCredentialPlugin } from './exec-credential.ts';

/** What a request presents to the API server: a bearer token, a client certificate, or both. */
export interface ClientCredentials {
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
}

/**
 * Where a transport gets its credentials. A kubeconfig's static token or certificate never
 * changes; a credential plugin's does, so the transport asks before every request and, after a
 * 401, lets the source renew once.
 */
export interface CredentialSource {
  /** True when {@link renewAfterRejection} can bring different credentials. */
  readonly renewable: boolean;
  /** The credentials to send now. */
  current(): Promise<ClientCredentials>;
  /** The server refused `used` with a 401: drop it so the next {@link current} is fresh. */
  renewAfterRejection(used: ClientCredentials): Promise<void>;
}

export interface CredentialOptions {
  /** How long a credential plugin may run before it is killed. */
  execTimeoutMs?: number;
}

/** The credential source a cluster config describes: its plugin if it names one, else static. */
export function credentialSourceFor(
  config: KubeClientConfig,
  options: CredentialOptions = {},
): CredentialSource {
  const fixed: ClientCredentials = {
    token: config.token,
    clientCertPem: config.clientCertPem,
    clientKeyPem: config.clientKeyPem,
  };
  if (!config.exec) return staticCredentials(fixed);
  return new ExecCredentialPlugin(config.exec, {
    timeoutMs: options.execTimeoutMs,
    fallback: fixed,
  });
}

function staticCredentials(credentials: ClientCredentials): CredentialSource {
  return {
    renewable: false,
    current: () => Promise.resolve(credentials),
    renewAfterRejection: () => Promise.resolve(),
  };
}
