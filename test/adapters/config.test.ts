import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';

const base = `apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments: [{ name: prod, order: 0, cluster: prod, production: true }]
clusters: { prod: { type: in-cluster } }
`;

describe('adapters in changeproof.yaml', () => {
  it('accepts the connected adapters with their non-secret settings', () => {
    const config = parseConfig(`${base}adapters:
  forge: github
  changeSystem: servicenow
  secrets: vault
  identity: oidc
  sinks: [datadog]
  github: { owner: acme, repo: config }
  servicenow: { instanceUrl: https://acme.service-now.com, auth: oauth }
  vault: { address: https://vault.acme:8200, role: changeproof }
  datadog: { site: datadoghq.eu }
  oidc: { issuer: https://login.acme, clientId: changeproof, roleMap: { sre: [oncall] } }
`);
    expect(config.adapters.github?.apiUrl).toBe('https://api.github.com');
    expect(config.adapters.vault?.transitKeys.pipeline).toBe('changeproof-pipeline');
    expect(config.adapters.servicenow?.auth).toBe('oauth');
  });

  it('refuses a credential in the config file and names the variable to use', () => {
    expect(() =>
      parseConfig(`${base}adapters:\n  github: { owner: acme, repo: config, token: ghp_x }\n`),
    ).toThrow(/adapters\.github\.token: credentials never go in changeproof\.yaml.*GITHUB_TOKEN/);
    expect(() =>
      parseConfig(
        `${base}adapters:\n  servicenow: { instanceUrl: https://x.service-now.com, password: p }\n`,
      ),
    ).toThrow(/SERVICENOW_PASSWORD/);
    expect(() =>
      parseConfig(
        `${base}adapters:\n  oidc: { issuer: https://i, clientId: c, clientSecret: s }\n`,
      ),
    ).toThrow(/OIDC_CLIENT_SECRET/);
  });

  it('refuses a connected adapter chosen without its settings', () => {
    expect(() => parseConfig(`${base}adapters: { forge: github }\n`)).toThrow(
      /adapters\.github: add adapters\.github settings/,
    );
  });
});
