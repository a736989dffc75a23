import { basename } from 'node:path';
import type { ExecPluginConfig } from './config.ts';
import { KubeError } from './errors.ts';

/** What to try when a well-known plugin fails; anything else is run by hand to see why. */
const hintByCommand: Record<string, string> = {
  aws: 'check your AWS credentials (aws sts get-caller-identity)',
  'aws-iam-authenticator': 'check your AWS credentials (aws sts get-caller-identity)',
  'gke-gcloud-auth-plugin':
    'check your Google credentials (gcloud auth login or workload identity)',
  kubelogin: 'check your Azure login (az login, or the service principal kubelogin is given)',
};

/** The one-line error for a plugin that failed, naming it and what to do. */
export function pluginFailure(
  config: ExecPluginConfig,
  what: string,
  options: { cause?: unknown; hint?: string } = {},
): KubeError {
  const hint =
    options.hint ??
    hintByCommand[basename(config.command)] ??
    'run it by hand with the same environment to see why';
  return new KubeError('CREDENTIAL_PLUGIN_FAILED', `${pluginLabel(config)} ${what}; ${hint}`, {
    cause: options.cause,
    details: { command: basename(config.command) },
  });
}

/**
 * The plugin as a person would name it, e.g. `aws eks get-token`: the command and its
 * sub-command words, never the values of flags (a flag's value may be a secret).
 */
export function pluginLabel(config: Pick<ExecPluginConfig, 'command' | 'args'>): string {
  const words = [basename(config.command)];
  const args = config.args ?? [];
  args.forEach((arg, index) => {
    const previous = args[index - 1];
    const isFlagValue = previous?.startsWith('-') && !previous.includes('=');
    if (/^[a-z][a-z0-9-]*$/.test(arg) && !isFlagValue) words.push(arg);
  });
  return words.join(' ');
}
