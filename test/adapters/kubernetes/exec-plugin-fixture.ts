import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { token } from '../../sandbox/helpers.ts';

/** What the plugin does on one run; the last step repeats once the plan runs out. */
export interface PluginStep {
  token?: string;
  expirationTimestamp?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Printed instead of an ExecCredential. */
  stdout?: string;
  stderr?: string;
  exit?: number;
  sleepMs?: number;
  apiVersion?: string;
}

/** What the plugin saw on one run: its arguments and the environment changeproof gave it. */
export interface PluginRun {
  args: string[];
  execInfo: unknown;
  extra: string | undefined;
  home: string | undefined;
}

/**
 * A real credential plugin: an executable named `aws` that prints an ExecCredential as `aws eks
 * get-token` does, follows the plan in `plan.json` step by step, and records each run.
 */
export class FakeAwsPlugin {
  readonly command: string;

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'bin'), { recursive: true });
    this.command = join(dir, 'bin', 'aws');
    writeFileSync(this.command, pluginSource(dir));
    chmodSync(this.command, 0o755);
    this.plan([{ token }]);
  }

  plan(steps: PluginStep[]): void {
    writeFileSync(join(this.dir, 'plan.json'), JSON.stringify(steps));
  }

  runs(): PluginRun[] {
    const file = join(this.dir, 'runs.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as PluginRun);
  }
}

function pluginSource(dir: string): string {
  return `#!${process.execPath}
const fs = require('node:fs');
const dir = ${JSON.stringify(dir)};
const run = {
  args: process.argv.slice(2),
  execInfo: JSON.parse(process.env.KUBERNETES_EXEC_INFO || 'null'),
  extra: process.env.PLUGIN_EXTRA,
  home: process.env.HOME,
};
fs.appendFileSync(dir + '/runs.jsonl', JSON.stringify(run) + '\\n');
const count = fs.readFileSync(dir + '/runs.jsonl', 'utf8').split('\\n').filter(Boolean).length;
const plan = JSON.parse(fs.readFileSync(dir + '/plan.json', 'utf8'));
const step = plan[Math.min(count, plan.length) - 1];
const finish = () => {
  if (step.stderr) process.stderr.write(step.stderr);
  if (step.stdout !== undefined) process.stdout.write(step.stdout);
  else {
    const { token, expirationTimestamp, clientCertificateData, clientKeyData } = step;
    const apiVersion = step.apiVersion || 'client.authentication.k8s.io/v1beta1';
    const status = { token, expirationTimestamp, clientCertificateData, clientKeyData };
    process.stdout.write(JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: {}, status }));
  }
  process.exit(step.exit || 0);
};
if (step.sleepMs) setTimeout(finish, step.sleepMs); else finish();
`;
}

export interface ExecKubeconfigOptions {
  server: string;
  caPem: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  interactiveMode?: string;
  provideClusterInfo?: boolean;
  installHint?: string;
  /** `extensions[client.authentication.k8s.io/exec]` of the cluster. */
  execExtension?: unknown;
}

/** The args `aws eks update-kubeconfig` writes. */
export const awsArgs = [
  '--region',
  'eu-west-1',
  'eks',
  'get-token',
  '--cluster-name',
  'prod',
  '--output',
  'json',
];

/** A kubeconfig as EKS, GKE or AKS tooling writes it: the user is an exec credential plugin. */
export function writeExecKubeconfig(path: string, options: ExecKubeconfigOptions): void {
  const extensions = options.execExtension
    ? [{ name: 'client.authentication.k8s.io/exec', extension: options.execExtension }]
    : undefined;
  const exec = {
    apiVersion: options.apiVersion ?? 'client.authentication.k8s.io/v1beta1',
    command: options.command,
    args: options.args ?? awsArgs,
    env: options.env ?? null,
    interactiveMode: options.interactiveMode ?? 'IfAvailable',
    provideClusterInfo: options.provideClusterInfo ?? false,
    installHint: options.installHint,
  };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
        cluster: {
          server: options.server,
          'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
          extensions,
        },
      },
    ],
    users: [{ name: 'eks-prod', user: { exec } }],
    contexts: [
      {
        name: 'eks-prod',
        context: { cluster: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod', user: 'eks-prod' },
      },
    ],
    'current-context': 'eks-prod',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
