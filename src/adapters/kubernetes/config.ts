import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { KubeError } from './errors.ts';
import { kubeconfigSchema, type ExecConfig, type Kubeconfig } from './schema.ts';

type KubeconfigCluster = Kubeconfig['clusters'][number]['cluster'];

/**
 * A credential plugin to run for this cluster's token or client certificate, as the kubeconfig's
 * `exec` names it, with the command resolved and the cluster facts the plugin asked for.
 */
export interface ExecPluginConfig extends ExecConfig {
  /** `spec.cluster` of KUBERNETES_EXEC_INFO, present when the kubeconfig sets provideClusterInfo. */
  cluster?: Record<string, unknown>;
}

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
  /** A credential plugin that supplies the token or client certificate (EKS, GKE, AKS). */
  exec?: ExecPluginConfig;
}

/**
 * Reads a kubeconfig as kubectl does: the named context (or the current one), its cluster's
 * server and CA, and its user's bearer token, client certificate or credential plugin.
 */
export function loadKubeconfig(path: string, contextName?: string): KubeClientConfig {
  const invalid = (why: string) =>
    new KubeError('KUBECONFIG_INVALID', `kubeconfig ${path}: ${why}`);
  if (!existsSync(path)) throw invalid('does not exist; pass --kubeconfig or set clusters.*.path');
  const parsed = kubeconfigSchema.safeParse(parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw invalid(`is not a kubeconfig (${issueOf(parsed.error.issues[0])})`);
  const config = parsed.data;

  const name = contextName ?? config['current-context'];
  const context = config.contexts.find((entry) => entry.name === name)?.context;
  if (!name || !context) throw invalid(`has no context ${name ?? '(none is current)'}`);
  const cluster = config.clusters.find((entry) => entry.name === context.cluster)?.cluster;
  if (!cluster) throw invalid(`context ${name} names a cluster ${context.cluster} it lacks`);
  const user = config.users.find((entry) => entry.name === context.user)?.user ?? {};
  const caPem =
    decode(cluster['certificate-authority-data']) ?? readOptional(cluster['certificate-authority']);
  if (user.exec?.interactiveMode === 'Always') {
    throw invalid(
      `user ${context.user} runs ${user.exec.command} with interactiveMode Always, and changeproof never prompts; log in non-interactively (a service principal or workload identity)`,
    );
  }

  return {
    name,
    server: cluster.server,
    caPem,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'],
    token: user.token ?? readOptional(user.tokenFile)?.trim(),
    clientCertPem: decode(user['client-certificate-data']),
    clientKeyPem: decode(user['client-key-data']),
    namespace: context.namespace,
    exec: user.exec && execPluginOf(user.exec, path, cluster, caPem),
  };
}

/**
 * The plugin as it will run: a command with a path separator is relative to the kubeconfig's
 * folder (as kubectl reads it); a bare name is looked up on PATH.
 */
function execPluginOf(
  exec: ExecConfig,
  kubeconfigPath: string,
  cluster: KubeconfigCluster,
  caPem: string | undefined,
): ExecPluginConfig {
  const command =
    exec.command.includes('/') && !isAbsolute(exec.command)
      ? resolve(dirname(kubeconfigPath), exec.command)
      : exec.command;
  return {
    ...exec,
    command,
    cluster: exec.provideClusterInfo ? clusterInfoOf(cluster, caPem) : undefined,
  };
}

/** `spec.cluster` of the ExecCredential a plugin receives: the cluster as the kubeconfig has it. */
function clusterInfoOf(cluster: KubeconfigCluster, caPem: string | undefined) {
  const config = cluster.extensions?.find(
    (entry) => entry.name === 'client.authentication.k8s.io/exec',
  )?.extension;
  return {
    server: cluster.server,
    'tls-server-name': cluster['tls-server-name'],
    'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'],
    'certificate-authority-data': caPem && Buffer.from(caPem, 'utf8').toString('base64'),
    'proxy-url': cluster['proxy-url'],
    config,
  };
}

function issueOf(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'unreadable';
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
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
