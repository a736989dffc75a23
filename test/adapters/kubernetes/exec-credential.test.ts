import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExecCredentialPlugin } from '../../../src/adapters/kubernetes/exec-credential.ts';
import { KubeClient, KubeError, loadKubeconfig } from '../../../src/adapters/kubernetes/index.ts';
import { exitCodeFor } from '../../../src/cli/exit-codes.ts';
import { removeDir, startTestSandbox, token, type TestSandbox } from '../../sandbox/helpers.ts';
import {
  awsArgs,
  FakeAwsPlugin,
  writeExecKubeconfig,
  type ExecKubeconfigOptions,
} from './exec-plugin-fixture.ts';

/*
 * The client authenticating with a kubeconfig credential plugin, as it does to EKS, GKE and AKS:
 * a real executable prints an ExecCredential carrying the sandbox's token, and the real sandbox
 * accepts or refuses it.
 */
let sandbox: TestSandbox;
let dir: string;
let plugin: FakeAwsPlugin;
let client: KubeClient | undefined;

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

function clientFor(options: Partial<ExecKubeconfigOptions> = {}, execTimeoutMs?: number) {
  const path = join(dir, 'kubeconfig');
  writeExecKubeconfig(path, {
    server: sandbox.cluster.url,
    caPem: sandbox.cluster.caCertificatePem,
    command: plugin.command,
    ...options,
  });
  client = new KubeClient(loadKubeconfig(path), { execTimeoutMs });
  return client;
}

async function failureOf(promise: Promise<unknown>): Promise<KubeError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(KubeError);
  return error as KubeError;
}

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
  removeDir(sandbox.dir);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'exec-plugin-'));
  plugin = new FakeAwsPlugin(dir);
});
afterEach(() => {
  client?.close();
  client = undefined;
  removeDir(dir);
});

describe('a kubeconfig user with an exec credential plugin', () => {
  it('gets and lists with the token the plugin prints', async () => {
    plugin.plan([{ token, expirationTimestamp: inAnHour() }]);
    const sut = clientFor();

    const namespaces = await sut.list('v1', 'Namespace');
    const fetched = await sut.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });

    expect(namespaces.items.map((item) => item.metadata.name)).toContain('default');
    expect(fetched?.metadata.name).toBe('default');
  });

  it('runs the command with its args, its env over ours, and KUBERNETES_EXEC_INFO', async () => {
    const sut = clientFor({ env: [{ name: 'PLUGIN_EXTRA', value: 'from-kubeconfig' }] });

    await sut.list('v1', 'Namespace');

    const [run] = plugin.runs();
    expect(run?.args).toEqual(awsArgs);
    expect(run?.extra).toBe('from-kubeconfig');
    expect(run?.home).toBe(process.env.HOME);
    expect(run?.execInfo).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('hands the plugin the cluster when the kubeconfig sets provideClusterInfo', async () => {
    plugin.plan([{ token, apiVersion: 'client.authentication.k8s.io/v1' }]);
    const sut = clientFor({
      apiVersion: 'client.authentication.k8s.io/v1',
      provideClusterInfo: true,
      execExtension: { audience: 'prod' },
    });

    await sut.list('v1', 'Namespace');

    const info = plugin.runs()[0]?.execInfo as { spec: { cluster: Record<string, unknown> } };
    expect(info.spec.cluster).toEqual({
      server: sandbox.cluster.url,
      'certificate-authority-data': Buffer.from(sandbox.cluster.caCertificatePem).toString(
        'base64',
      ),
      config: { audience: 'prod' },
    });
  });

  it('runs the plugin once while its credential is valid, also for concurrent requests', async () => {
    plugin.plan([{ token, expirationTimestamp: inAnHour() }]);
    const sut = clientFor();

    await Promise.all([sut.list('v1', 'Namespace'), sut.list('v1', 'Namespace')]);
    await sut.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    await sut.list('v1', 'Namespace');

    expect(plugin.runs()).toHaveLength(1);
  });

  it('runs the plugin again once its credential has expired', async () => {
    plugin.plan([{ token, expirationTimestamp: anHourAgo() }]);
    const sut = clientFor();
    await sut.list('v1', 'Namespace');
    const before = plugin.runs().length;

    await sut.list('v1', 'Namespace');

    expect(plugin.runs()).toHaveLength(before + 1);
  });

  it('renews a credential shortly before it expires', async () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toISOString();
    plugin.plan([{ token, expirationTimestamp: inTenSeconds }]);
    const sut = clientFor();
    await sut.list('v1', 'Namespace');
    const before = plugin.runs().length;

    await sut.list('v1', 'Namespace');

    expect(plugin.runs()).toHaveLength(before + 1);
  });

  it('runs the plugin again when the server refuses its token with a 401', async () => {
    plugin.plan([
      { token: 'revoked-token', expirationTimestamp: inAnHour() },
      { token, expirationTimestamp: inAnHour() },
    ]);
    const sut = clientFor();

    const namespaces = await sut.list('v1', 'Namespace');

    expect(namespaces.items.length).toBeGreaterThan(0);
    expect(plugin.runs()).toHaveLength(2);
  });

  it('runs it only once more per request when the new token is refused too', async () => {
    plugin.plan([{ token: 'revoked-token', expirationTimestamp: inAnHour() }]);
    const sut = clientFor();

    const error = await failureOf(sut.list('v1', 'Namespace'));

    expect(error.code).toBe('UNAUTHORIZED');
    expect(plugin.runs()).toHaveLength(2);
  });

  it('presents the client certificate and key the plugin prints', async () => {
    plugin.plan([{ clientCertificateData: 'CERT PEM', clientKeyData: 'KEY PEM' }]);
    const sut = new ExecCredentialPlugin({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: plugin.command,
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });

    const credentials = await sut.current();

    expect(credentials).toEqual({ clientCertPem: 'CERT PEM', clientKeyPem: 'KEY PEM' });
  });

  it('resolves a relative command against the kubeconfig folder', async () => {
    const sut = clientFor({ command: './bin/aws' });

    await sut.list('v1', 'Namespace');

    expect(plugin.runs()).toHaveLength(1);
  });
});

describe('a failing credential plugin', () => {
  const expectUpstream = (error: KubeError) => {
    expect(error.code).toBe('CREDENTIAL_PLUGIN_FAILED');
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain(token);
  };

  it('names the command and its first stderr line when it exits non-zero', async () => {
    plugin.plan([
      { exit: 255, stdout: '', stderr: '\nUnable to locate credentials.\nSecond line\n' },
    ]);

    const error = await failureOf(clientFor().list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toBe(
      'aws eks get-token failed: Unable to locate credentials.; check your AWS credentials (aws sts get-caller-identity)',
    );
  });

  it('says so when it prints no ExecCredential', async () => {
    plugin.plan([{ stdout: `token=${token}` }]);

    const error = await failureOf(clientFor().list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toMatch(
      /^aws eks get-token printed no ExecCredential \(stdout is not JSON\)/,
    );
  });

  it('refuses a credential of another apiVersion than the kubeconfig asks for', async () => {
    plugin.plan([{ token, apiVersion: 'client.authentication.k8s.io/v1' }]);

    const error = await failureOf(clientFor().list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toContain(
      'apiVersion client.authentication.k8s.io/v1, but the kubeconfig',
    );
  });

  it('refuses a certificate without its key', async () => {
    plugin.plan([{ clientCertificateData: 'PEM' }]);

    const error = await failureOf(clientFor().list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toContain('clientCertificateData and clientKeyData must come together');
  });

  it('kills a plugin that does not answer in time', async () => {
    plugin.plan([{ token, sleepMs: 30_000 }]);

    const error = await failureOf(clientFor({}, 300).list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toMatch(/^aws eks get-token gave no credential within 0.3 s; /);
  });

  it('shows the install hint when the command is not installed', async () => {
    const sut = clientFor({
      command: 'gke-gcloud-auth-plugin-not-installed',
      args: [],
      installHint:
        'Install gke-gcloud-auth-plugin:\n  gcloud components install gke-gcloud-auth-plugin',
    });

    const error = await failureOf(sut.list('v1', 'Namespace'));

    expectUpstream(error);
    expect(error.message).toBe(
      'gke-gcloud-auth-plugin-not-installed is not installed (not found on PATH); Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin',
    );
  });

  it('tries again on the next request rather than remembering the failure', async () => {
    plugin.plan([{ exit: 1, stdout: '', stderr: 'throttled' }, { token }]);
    const sut = clientFor();
    await failureOf(sut.list('v1', 'Namespace'));

    const namespaces = await sut.list('v1', 'Namespace');

    expect(namespaces.items.length).toBeGreaterThan(0);
  });
});

describe('loading an exec kubeconfig', () => {
  const load = (options: Partial<ExecKubeconfigOptions>) => {
    const path = join(dir, 'kubeconfig');
    writeExecKubeconfig(path, {
      server: sandbox.cluster.url,
      caPem: sandbox.cluster.caCertificatePem,
      command: plugin.command,
      ...options,
    });
    return () => loadKubeconfig(path);
  };

  it('refuses a plugin that insists on prompting (interactiveMode Always)', () => {
    expect(load({ interactiveMode: 'Always' })).toThrow(
      /interactiveMode Always, and changeproof never prompts/,
    );
  });

  it('refuses the removed v1alpha1 API, naming the field', () => {
    const loading = load({ apiVersion: 'client.authentication.k8s.io/v1alpha1' });

    expect(loading).toThrow(KubeError);
    expect(loading).toThrow(/users\.0\.user\.exec\.apiVersion: exec\.apiVersion must be one of/);
  });
});
