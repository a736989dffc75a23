import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedSecretBroker } from '../../src/embedded/secret-broker/broker.ts';
import { generateKeyPair } from '../../src/embedded/secret-broker/keys.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { freshStore } from '../support/stores.ts';
import type { Store } from '../../src/store/open.ts';

describe('embedded secret broker', () => {
  let keysDir: string;
  let store: Store;
  let dispose: () => Promise<void>;
  let now: Date;
  let broker: EmbeddedSecretBroker;
  let ledger: Ledger;

  beforeEach(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'changeproof-keys-'));
    generateKeyPair(keysDir, 'pipeline');
    ({ store, dispose } = await freshStore('sqlite'));
    now = new Date('2026-12-01T10:00:00Z');
    ledger = new Ledger(store);
    broker = new EmbeddedSecretBroker({ keysDir, store, ledger, clock: () => now });
  });
  afterEach(async () => {
    await dispose();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('signs under a live lease with the right scope, verifiable by the public key', async () => {
    const lease = await broker.openLease({ holder: 'pipeline:run-1', scopes: ['sign:pipeline'] });
    expect(new Date(lease.expiresAt).getTime() - now.getTime()).toBe(15 * 60 * 1000);
    const signer = await broker.signer(lease.id, 'pipeline');
    const signature = await signer.sign(Buffer.from('payload'));
    const verifier = createVerify('sha256').update('payload');
    expect(verifier.verify(await broker.publicKey('pipeline'), signature)).toBe(true);
  });

  it('refuses a scope the lease does not grant', async () => {
    const lease = await broker.openLease({ holder: 'h', scopes: ['read:registry/'] });
    await expect(broker.signer(lease.id, 'pipeline')).rejects.toMatchObject({
      code: 'SCOPE_DENIED',
    });
  });

  it('stops signing once the lease expires or is revoked, even with a signer in hand', async () => {
    const lease = await broker.openLease({
      holder: 'h',
      scopes: ['sign:pipeline'],
      ttlSeconds: 60,
    });
    const signer = await broker.signer(lease.id, 'pipeline');
    now = new Date(now.getTime() + 61_000);
    await expect(signer.sign(Buffer.from('x'))).rejects.toMatchObject({ code: 'LEASE_EXPIRED' });
    const second = await broker.openLease({ holder: 'h', scopes: ['sign:pipeline'] });
    const signer2 = await broker.signer(second.id, 'pipeline');
    await broker.revokeLease(second.id);
    await expect(signer2.sign(Buffer.from('x'))).rejects.toMatchObject({ code: 'LEASE_REVOKED' });
  });

  it('records every lease opened and revoked in the ledger, without key material', async () => {
    const lease = await broker.openLease({ holder: 'pipeline:run-2', scopes: ['sign:pipeline'] });
    await broker.revokeLease(lease.id);
    const entries = await ledger.list({ subject: `lease:${lease.id}` });
    expect(entries.map((e) => e.kind)).toEqual(['broker.lease.opened', 'broker.lease.revoked']);
    expect(JSON.stringify(entries)).not.toMatch(/PRIVATE KEY/);
  });

  it('refuses a key file readable by others, naming the fix', async () => {
    chmodSync(join(keysDir, 'pipeline.key'), 0o644);
    const lease = await broker.openLease({ holder: 'h', scopes: ['sign:pipeline'] });
    await expect(broker.signer(lease.id, 'pipeline')).rejects.toThrow(
      /readable by others .*chmod 600/,
    );
  });

  it('refuses a missing or unreadable key', async () => {
    const lease = await broker.openLease({
      holder: 'h',
      scopes: ['sign:control-plane', 'sign:pipeline'],
    });
    await expect(broker.signer(lease.id, 'control-plane')).rejects.toMatchObject({
      code: 'KEY_MISSING',
    });
    writeFileSync(join(keysDir, 'pipeline.key'), 'not a key', { mode: 0o600 });
    await expect(broker.signer(lease.id, 'pipeline')).rejects.toMatchObject({
      code: 'KEY_INVALID',
    });
  });
});
