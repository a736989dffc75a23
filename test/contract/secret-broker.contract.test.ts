import { createVerify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultSecretBroker } from '../../src/adapters/vault/index.ts';
import type { SecretBroker } from '../../src/domain/secret-broker.ts';
import { EmbeddedSecretBroker } from '../../src/embedded/secret-broker/broker.ts';
import { generateKeyPair } from '../../src/embedded/secret-broker/keys.ts';
import { VaultEmulator } from '../emulators/vault/server.ts';
import { freshStore } from '../support/stores.ts';

/* The SecretBroker contract: the embedded broker and Vault grant, sign, read and revoke alike. */
const dir = mkdtempSync(join(tmpdir(), 'changeproof-broker-contract-'));
const vault = new VaultEmulator({ changeproof: ['sa-token'] });
const disposers: (() => Promise<void>)[] = [];

const implementations: [string, () => Promise<SecretBroker>][] = [
  [
    'embedded',
    async () => {
      const keysDir = join(dir, 'keys');
      mkdirSync(keysDir, { mode: 0o700 });
      generateKeyPair(keysDir, 'pipeline');
      writeFileSync(join(keysDir, 'secrets.json'), JSON.stringify({ 'registry/push': 's3cret' }), {
        mode: 0o600,
      });
      const { store, dispose } = await freshStore('sqlite');
      disposers.push(dispose);
      return new EmbeddedSecretBroker({ keysDir, store });
    },
  ],
  [
    'vault',
    async () => {
      vault.createKey('changeproof-pipeline');
      vault.kv.set('registry/push', { value: 's3cret' });
      const tokenPath = join(dir, 'sa-token');
      writeFileSync(tokenPath, 'sa-token\n');
      return new VaultSecretBroker({
        address: vault.url,
        role: 'changeproof',
        authMount: 'kubernetes',
        serviceAccountTokenPath: tokenPath,
        kvMount: 'secret',
        transitMount: 'transit',
        transitKeys: {
          pipeline: 'changeproof-pipeline',
          'control-plane': 'changeproof-control-plane',
        },
        backoffMs: 1,
      });
    },
  ],
];

beforeAll(async () => {
  await vault.start();
});
afterAll(async () => {
  await vault.stop();
  for (const dispose of disposers) await dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(implementations)('SecretBroker contract: %s', (_, create) => {
  let broker: SecretBroker;
  beforeAll(async () => {
    broker = await create();
  });

  it('signs under a lease with sign:pipeline, verifiable with the public key (DER ECDSA P-256)', async () => {
    const lease = await broker.openLease({
      holder: 'pipeline:run-1',
      scopes: ['sign:pipeline'],
      ttlSeconds: 120,
    });
    const signer = await broker.signer(lease.id, 'pipeline');
    const signature = await signer.sign(Buffer.from('payload'));

    expect(signature[0]).toBe(0x30);
    expect(
      createVerify('sha256')
        .update('payload')
        .verify(await broker.publicKey('pipeline'), signature),
    ).toBe(true);
    expect(signer.publicKeyPem).toBe(await broker.publicKey('pipeline'));
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBeLessThanOrEqual(120_000);
  });

  it('refuses a scope the lease does not grant, and an unknown lease', async () => {
    const lease = await broker.openLease({ holder: 'pipeline:run-2', scopes: ['read:registry/'] });
    await expect(broker.signer(lease.id, 'pipeline')).rejects.toMatchObject({
      code: 'SCOPE_DENIED',
    });
    await expect(broker.readSecret(lease.id, 'other/thing')).rejects.toMatchObject({
      code: 'SCOPE_DENIED',
    });
    await expect(broker.signer('no-such-lease', 'pipeline')).rejects.toMatchObject({
      code: 'LEASE_UNKNOWN',
    });
  });

  it('reads a secret under a prefix scope and says when it is missing', async () => {
    const lease = await broker.openLease({ holder: 'pipeline:run-3', scopes: ['read:registry/'] });
    expect(await broker.readSecret(lease.id, 'registry/push')).toBe('s3cret');
    await expect(broker.readSecret(lease.id, 'registry/absent')).rejects.toMatchObject({
      code: 'SECRET_MISSING',
    });
  });

  it('stops signing once the lease is revoked, and revoking twice is harmless', async () => {
    const lease = await broker.openLease({ holder: 'pipeline:run-4', scopes: ['sign:pipeline'] });
    const signer = await broker.signer(lease.id, 'pipeline');
    await broker.revokeLease(lease.id);
    await broker.revokeLease(lease.id);

    await expect(signer.sign(Buffer.from('late'))).rejects.toMatchObject({ code: 'LEASE_REVOKED' });
  });
});
