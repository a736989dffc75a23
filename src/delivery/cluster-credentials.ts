import { existsSync } from 'node:fs';
import type { Lease } from '../domain/secret-broker.ts';
import { DeliveryError, DeliveryStepError } from './errors.ts';
import { clusterCredentialVariables, testCommandEnvironment } from './steps/test.ts';

/** The path where Kubernetes mounts a pod's service account token, unless told not to. */
export const inClusterTokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** What a run could be handed a cluster credential through: its environment and file system. */
export interface ClusterCredentialProbe {
  /** The environment the run was started with; the test command gets a copy of it. */
  env: NodeJS.ProcessEnv;
  /** Where an in-cluster service account token would be mounted. */
  serviceAccountTokenPath: string;
}

/** The probe of the running process: its own environment and the standard token path. */
export function processProbe(): ClusterCredentialProbe {
  return { env: process.env, serviceAccountTokenPath: inClusterTokenPath };
}

/*
 * Broker secret paths under which a cluster credential is kept. A `read:` scope grants one path
 * exactly, or every path under it when it ends in `/`; a scope covering any of these, or a
 * scope of a cluster kind, would hand the run a way into a cluster.
 */
const clusterSecretPaths = ['cluster/', 'clusters/', 'kubernetes/', 'kubeconfig'];
const clusterScopeKinds = ['cluster:', 'kube:', 'kubernetes:'];

function scopeGrantsClusterAccess(scope: string): boolean {
  if (clusterScopeKinds.some((kind) => scope.startsWith(kind))) return true;
  if (!scope.startsWith('read:')) return false;
  const granted = scope.slice('read:'.length);
  const isPrefix = granted === '' || granted.endsWith('/');
  return clusterSecretPaths.some(
    (secretPath) => granted.startsWith(secretPath) || (isPrefix && secretPath.startsWith(granted)),
  );
}

/**
 * Measures whether a delivery run holds, or would hand its test and build commands, a cluster
 * credential. It looks at three things, each of which is a real way in:
 * - every broker lease the run opened: none may carry a scope that reaches a cluster secret;
 * - the environment the test command actually gets: no KUBECONFIG, CHANGEPROOF_KUBECONFIG or
 *   KUBERNETES_SERVICE_HOST (they are removed from it; this checks that they are gone);
 * - the file system: no in-cluster service account token at the mount path, since any command
 *   the run starts could read it (CI agents must run with automountServiceAccountToken: false).
 * Returns one line per credential found; empty means the run holds none.
 */
export function clusterCredentialsFound(
  leases: readonly Lease[],
  probe: ClusterCredentialProbe,
): string[] {
  const found: string[] = [];
  for (const lease of leases) {
    for (const scope of lease.scopes.filter(scopeGrantsClusterAccess))
      found.push(`lease ${lease.id} grants ${scope}`);
  }
  const handed = testCommandEnvironment(probe.env);
  for (const name of clusterCredentialVariables.filter((variable) => handed[variable]))
    found.push(`the test command would get ${name}`);
  if (existsSync(probe.serviceAccountTokenPath))
    found.push(`a service account token is mounted at ${probe.serviceAccountTokenPath}`);
  return found;
}

/**
 * Fails closed: refuses the run, in one line naming what it found, when it would hold a cluster
 * credential. The pipeline records the refusal as `delivery.failed` at step `credentials`.
 */
export function assertNoClusterCredentials(
  leases: readonly Lease[],
  probe: ClusterCredentialProbe,
): void {
  const found = clusterCredentialsFound(leases, probe);
  if (found.length === 0) return;
  const refusal = new DeliveryError(
    'CLUSTER_CREDENTIAL_HELD',
    `the delivery would hold a cluster credential (${found.join('; ')}); run it where it has none`,
    { details: { found } },
  );
  throw new DeliveryStepError('credentials', refusal);
}
