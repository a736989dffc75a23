import { createVerify, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VaultSecretBroker, vaultSignatureToDer } from '../../../src/adapters/vault/index.ts';
import { UpstreamError } from '../../../src/errors.ts';
import { VaultEmulator } from '../../emulators/vault/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'changeproof-vault-'));
const tokenPath = join(dir, 'token');
const vault = new VaultEmulator({ changeproof: ['sa-token'] });

function broker(overrides: Partial<ConstructorParameters<typeof VaultSecretBroker>[0]> = {}) {
  return new VaultSecretBroker({
    address: vault.url,
    role: 'changeproof',
    authMount: 'kubernetes',
    serviceAccountTokenPath: tokenPath,
    kvMount: 'secret',
    transitMount: 'transit',
    transitKeys: { pipeline: 'changeproof-pipeline', 'control-plane': 'changeproof-control-plane' },
    backoffMs: 1,
    timeoutMs: 300,
    ...overrides,
  });
}

beforeAll(async () => {
  writeFileSync(tokenPath, 'sa-token');
  await vault.start();
  vault.createKey('changeproof-pipeline');
});
afterAll(async () => {
  await vault.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  vault.clearFaults();
  vault.sealed = false;
});

describe('Vault secret broker', () => {
  it('logs in again when Vault no longer holds its token', async () => {
    const sut = broker();
    await sut.openLease({ holder: 'a', scopes: [] });
    const logins = vault.logins;
    vault.expireAll();

    await sut.openLease({ holder: 'b', scopes: [] });
    expect(vault.logins).toBe(logins + 1);
  });

  it('fails closed on an expired lease instead of renewing it behind the caller', async () => {
    let now = Date.now();
    const sut = broker({ clock: () => now });
    const lease = await sut.openLease({ holder: 'p', scopes: ['sign:pipeline'], ttlSeconds: 60 });
    const signer = await sut.signer(lease.id, 'pipeline');
    now += 61_000;

    await expect(signer.sign(Buffer.from('x'))).rejects.toMatchObject({ code: 'LEASE_EXPIRED' });
  });

  it('renews a live lease within its maximum TTL and revokes the child token in Vault', async () => {
    const sut = broker();
    const lease = await sut.openLease({ holder: 'p', scopes: ['sign:pipeline'], ttlSeconds: 120 });
    const renewed = await sut.renewLease(lease.id, 60);
    expect(Date.parse(renewed.expiresAt)).toBeLessThanOrEqual(Date.parse(lease.expiresAt) + 1000);

    await sut.revokeLease(lease.id);
    const child = [...vault.tokens.values()].find((t) => t.accessor === lease.id);
    expect(child?.revoked).toBe(true);
  });

  it('retries a sealed or failing Vault with backoff, then refuses with UpstreamError', async () => {
    const sut = broker();
    vault.fail({ status: 503, match: /transit\/keys/ }, 2);
    await expect(sut.publicKey('pipeline')).resolves.toContain('PUBLIC KEY');

    vault.sealed = true;
    const refused = await sut.publicKey('pipeline').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect((refused as UpstreamError).message).toMatch(
      /vault is unavailable \(HTTP 503.*after 5 attempts/,
    );

    vault.sealed = false;
    vault.fail({ delayMs: 500, status: 200 }, 10);
    await expect(broker({ retries: 1 }).publicKey('pipeline')).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
  });

  it('refuses a login with a service-account token the role does not bind, or none at all', async () => {
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'other-sa');
    await expect(
      broker({ serviceAccountTokenPath: wrong }).publicKey('pipeline'),
    ).rejects.toMatchObject({ code: 'VAULT_LOGIN_FAILED' });
    await expect(
      broker({ serviceAccountTokenPath: join(dir, 'absent') }).publicKey('pipeline'),
    ).rejects.toMatchObject({ code: 'VAULT_TOKEN_FILE' });
  });
});

describe('vaultSignatureToDer', () => {
  it('reads asn1 signatures as they are and turns jws (r‖s) signatures into DER', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = sign('sha256', data, privateKey);

      const fromJws = vaultSignatureToDer(`vault:v1:${raw.toString('base64url')}`);
      expect(createVerify('sha256').update(data).verify(publicKey, fromJws)).toBe(true);
      expect(Buffer.from(vaultSignatureToDer(`vault:v1:${der.toString('base64')}`))).toEqual(der);
    }
  });
});
