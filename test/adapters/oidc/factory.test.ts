import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAdapters, type AdapterDependencies } from '../../../src/adapters/index.ts';
import { CookieSealer, OidcLogin, sessionSecret } from '../../../src/adapters/oidc/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import type { Ledger } from '../../../src/ledger/ledger.ts';
import type { Store } from '../../../src/store/open.ts';

const config = parseConfig(`apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments: [{ name: prod, order: 0, cluster: c }]
clusters: { c: { type: in-cluster } }
adapters:
  identity: oidc
  oidc: { issuer: https://login.acme, clientId: changeproof, roleMap: { sre: [oncall] } }
`);
const embedded = { name: 'embedded' } as never;
const deps = (env: NodeJS.ProcessEnv, keysDir?: string): AdapterDependencies => ({
  ledger: {} as Ledger,
  // Only a webhook delivery touches the store; building the adapters does not.
  store: {} as Store,
  env,
  ...(keysDir ? { keysDir } : {}),
  forgePolicy: { protectionFor: async () => embedded, rolesOf: () => [] },
  embedded: {
    forge: () => embedded,
    changeSystem: () => embedded,
    secrets: () => embedded,
    incidents: () => embedded,
  },
});

describe('the adapter factory with identity: oidc', () => {
  it('builds the OIDC login, its session key created once in the keys folder (0600)', () => {
    const keysDir = mkdtempSync(join(tmpdir(), 'changeproof-keys-'));
    const adapters = buildAdapters(config, deps({}, keysDir));
    expect(adapters.login).toBeInstanceOf(OidcLogin);
    expect(statSync(join(keysDir, 'session.key')).mode & 0o777).toBe(0o600);
    expect(sessionSecret({}, keysDir)).toEqual(sessionSecret({}, keysDir));
  });

  it('takes the session secret from the environment, and refuses a short one in one line', () => {
    const env = { CHANGEPROOF_SESSION_SECRET: 'x'.repeat(32) };
    expect(buildAdapters(config, deps(env)).login).toBeInstanceOf(OidcLogin);
    expect(() => buildAdapters(config, deps({ CHANGEPROOF_SESSION_SECRET: 'short' }))).toThrow(
      'CHANGEPROOF_SESSION_SECRET must be at least 32 characters',
    );
    expect(() => buildAdapters(config, deps({}))).toThrow(/set CHANGEPROOF_SESSION_SECRET/);
  });
});

describe('sealed cookies', () => {
  it('open only with the same secret and purpose, and not after they expire', () => {
    const secret = Buffer.alloc(32, 1);
    const session = new CookieSealer(secret, 'session');
    const sealed = session.seal({ name: 'pat' }, 60, 1_000_000);
    expect(session.open(sealed, 1_000_000)).toMatchObject({ name: 'pat' });
    expect(session.open(sealed, 1_000_000 + 61_000)).toBeUndefined();
    expect(new CookieSealer(secret, 'login').open(sealed, 1_000_000)).toBeUndefined();
    expect(
      new CookieSealer(Buffer.alloc(32, 2), 'session').open(sealed, 1_000_000),
    ).toBeUndefined();
  });
});
