import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { KubeError } from './errors.ts';
import { kubeconfigSchema } from './schema.ts';

/** How to reach one cluster: the same shape for a sandbox, a kubeconfig context or in-cluster. */
export interface KubeClientConfig {
  /** A name for logs and evidence, e.g. the kubeconfig context. */
  name: string;
  server: string;
  token?: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  insecureSkipTlsVerify?: boolean;
  /** The context's default namespace, for namespaced objects that name none. */
  namespace?: string;
}

/**
 * Reads a kubeconfig as kubectl does: the named context (or the current one), its cluster's
 * server and CA, and its user's bearer token or client certificate.
 */
export function loadKubeconfig(path: string, contextName?: string): KubeClientConfig {
  const invalid = (why: string) =>
    new KubeError('KUBECONFIG_INVALID', `kubeconfig ${path}: ${why}`);
  if (!existsSync(path)) throw invalid('does not exist; pass --kubeconfig or set clusters.*.path');
  const parsed = kubeconfigSchema.safeParse(parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw invalid(`is not a kubeconfig (${parsed.error.issues[0]?.message})`);
  const config = parsed.data;

  const name = contextName ?? config['current-context'];
  const context = config.contexts.find((entry) => entry.name === name)?.context;
  if (!name || !context) throw invalid(`has no context ${name ?? '(none is current)'}`);
  const cluster = config.clusters.find((entry) => entry.name === context.cluster)?.cluster;
  if (!cluster) throw invalid(`context ${name} names a cluster ${context.cluster} it lacks`);
  const user = config.users.find((entry) => entry.name === context.user)?.user ?? {};

  return {
    name,
    server: cluster.server,
    caPem:
      decode(cluster['certificate-authority-data']) ??
      readOptional(cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'],
    token: user.token ?? readOptional(user.tokenFile)?.trim(),
    clientCertPem: decode(user['client-certificate-data']),
    clientKeyPem: decode(user['client-key-data']),
    namespace: context.namespace,
  };
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account, as every in-cluster client finds it. */
export function inClusterConfig(dir = serviceAccountDir): KubeClientConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host || !existsSync(`${dir}/token`)) {
    throw new KubeError(
      'KUBECONFIG_INVALID',
      'not running in a cluster: KUBERNETES_SERVICE_HOST or the service account token is missing',
    );
  }
  return {
    name: 'in-cluster',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    // Read once here; a long-running engine re-creates its config when the token rotates.
    token: readFileSync(`${dir}/token`, 'utf8').trim(),
    caPem: readOptional(`${dir}/ca.crt`),
    namespace: readOptional(`${dir}/namespace`)?.trim(),
  };
}

function decode(base64: string | undefined): string | undefined {
  return base64 ? Buffer.from(base64, 'base64').toString('utf8') : undefined;
}

function readOptional(path: string | undefined): string | undefined {
  return path && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
