import { describe, expect, it } from 'vitest';
import { buildAdapters, type AdapterDependencies } from '../../src/adapters/index.ts';
import { DatadogSink } from '../../src/adapters/datadog/index.ts';
import { GithubForge } from '../../src/adapters/github/index.ts';
import { ServiceNowChangeSystem } from '../../src/adapters/servicenow/index.ts';
import { VaultSecretBroker } from '../../src/adapters/vault/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Ledger } from '../../src/ledger/ledger.ts';
import type { Store } from '../../src/store/open.ts';

const base = `apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments: [{ name: prod, order: 0, cluster: c }]
clusters: { c: { type: in-cluster } }
`;
const connected = parseConfig(`${base}adapters:
  forge: github
  changeSystem: servicenow
  secrets: vault
  sinks: [datadog]
  github: { owner: acme, repo: config }
  servicenow: { instanceUrl: https://acme.service-now.com }
  vault: { address: https://vault.acme:8200, role: changeproof }
  datadog: {}
`);
const embedded = { name: 'embedded' };
const deps = (env: NodeJS.ProcessEnv): AdapterDependencies => ({
  ledger: {} as Ledger,
  // Only a webhook delivery touches the store; building the adapters does not.
  store: {} as Store,
  env,
  forgePolicy: {
    protectionFor: async () => ({
      requiredApprovals: 1,
      requiredContexts: [],
      requireSignedCommits: false,
    }),
    rolesOf: () => [],
  },
  embedded: {
    forge: () => embedded as never,
    changeSystem: () => embedded as never,
    secrets: () => embedded as never,
    incidents: () => embedded as never,
  },
});
const env = {
  GITHUB_TOKEN: 't',
  GITHUB_WEBHOOK_SECRET: 'w',
  SERVICENOW_USER: 'u',
  SERVICENOW_PASSWORD: 'p',
  DD_API_KEY: 'k',
};

describe('buildAdapters', () => {
  it('builds the embedded implementations by default', () => {
    const adapters = buildAdapters(parseConfig(base), deps({}));
    expect([adapters.forge, adapters.changeSystem, adapters.secrets, adapters.incidents]).toEqual([
      embedded,
      embedded,
      embedded,
      embedded,
    ]);
    expect(adapters.sinks).toEqual([]);
  });

  it('builds the connected adapters the config selects, with credentials from the environment', () => {
    const adapters = buildAdapters(connected, deps(env));
    expect(adapters.forge).toBeInstanceOf(GithubForge);
    expect(adapters.changeSystem).toBeInstanceOf(ServiceNowChangeSystem);
    expect(adapters.secrets).toBeInstanceOf(VaultSecretBroker);
    expect(adapters.sinks[0]).toBeInstanceOf(DatadogSink);
    expect(adapters.githubWebhooks).toBeDefined();
  });

  it('names the missing environment variable', () => {
    expect(() => buildAdapters(connected, deps({ ...env, GITHUB_TOKEN: '' }))).toThrow(
      'set GITHUB_TOKEN in the environment',
    );
    expect(() =>
      buildAdapters(connected, deps({ ...env, SERVICENOW_PASSWORD: undefined })),
    ).toThrow(/SERVICENOW_PASSWORD/);
  });
});
