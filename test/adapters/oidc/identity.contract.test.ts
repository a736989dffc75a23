import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieSealer, OidcIdentity } from '../../../src/adapters/oidc/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import type { Identity } from '../../../src/domain/identity.ts';
import { LocalIdentity } from '../../../src/embedded/identity/index.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { freshStore } from '../../support/stores.ts';

/** One implementation of the identity port, with a valid and an expired credential for `pat`. */
interface Subject {
  identity: Identity;
  valid: string;
  expired: string;
}

const config = parseConfig(`apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments: [{ name: prod, order: 0, cluster: c }]
clusters: { c: { type: in-cluster } }
identities: [{ name: pat, roles: [platform-admin] }]
`);
let dispose: () => Promise<void>;
const subjects: Record<string, Subject> = {};

beforeAll(async () => {
  const fresh = await freshStore('sqlite');
  dispose = fresh.dispose;
  const ledger = new Ledger(fresh.store);
  const local = new LocalIdentity(config, fresh.store, ledger);
  const lastYear = new LocalIdentity(config, fresh.store, ledger, () => new Date('2025-01-01'));
  subjects.local = {
    identity: local,
    valid: (await local.issue('pat')).token,
    expired: (await lastYear.issue('pat', { ttlSeconds: 60 })).token,
  };
  const sessions = new CookieSealer(Buffer.alloc(32, 3), 'session');
  const claims = { name: 'pat', roles: ['platform-admin'], issuer: 'https://i', subject: 'u-1' };
  subjects.oidc = {
    identity: new OidcIdentity(sessions, local),
    valid: sessions.seal(claims, 3600),
    expired: sessions.seal(claims, 60, Date.now() - 120_000),
  };
});

afterAll(async () => dispose?.());

describe.each(['local', 'oidc'])('identity port contract: %s', (name) => {
  it('resolves a valid credential to the actor and their roles', async () => {
    const { identity, valid } = subjects[name]!;
    expect(await identity.authenticate(valid)).toEqual({ name: 'pat', roles: ['platform-admin'] });
  });

  it('refuses no credential, a forged one and an expired one, each as unauthenticated', async () => {
    const { identity, valid, expired } = subjects[name]!;
    const refusal = (code: string) => ({ code, category: 'unauthenticated' });
    await expect(identity.authenticate(undefined)).rejects.toMatchObject(refusal('TOKEN_MISSING'));
    const forged = valid.slice(0, -6) + (valid.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    await expect(identity.authenticate(forged)).rejects.toMatchObject(refusal('TOKEN_INVALID'));
    await expect(identity.authenticate(expired)).rejects.toMatchObject(refusal('TOKEN_EXPIRED'));
  });
});
