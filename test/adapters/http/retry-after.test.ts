import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src/adapters/http/client.ts';
import { VaultSecretBroker } from '../../../src/adapters/vault/index.ts';
import { HttpEmulator } from '../../emulators/http-emulator.ts';
import { VaultEmulator } from '../../emulators/vault/server.ts';

/*
 * Retry-After on a 429: the shared client waits what the server asks before it retries, and caps
 * an absurd ask. Waits are measured by when the emulator received each attempt.
 */
const upstream = new HttpEmulator().on('GET', '/thing', () => ({ status: 200, body: { ok: 1 } }));
const dir = mkdtempSync(join(tmpdir(), 'changeproof-retry-after-'));
const vault = new VaultEmulator({ changeproof: ['sa-token'] });

beforeAll(async () => {
  await upstream.start();
  writeFileSync(join(dir, 'token'), 'sa-token');
  await vault.start();
});
afterAll(async () => {
  await upstream.stop();
  await vault.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  upstream.clearFaults();
  vault.clearFaults();
});

/** Milliseconds between the last two requests the emulator received for `path`. */
function gapBetweenLastTwo(emulator: HttpEmulator, path: RegExp): number {
  const [first, second] = emulator.requests.filter((r) => path.test(r.path)).slice(-2);
  return second!.at - first!.at;
}

describe('Retry-After', () => {
  const client = (maxRetryAfterMs?: number) =>
    new HttpClient({
      system: 'test',
      baseUrl: upstream.url,
      backoffMs: 1,
      ...(maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs }),
    });

  it('waits the seconds a 429 asks for before retrying', async () => {
    upstream.fail({ status: 429, retryAfter: '1', match: /GET \/thing/ });

    const response = await client().request({ method: 'GET', path: '/thing', retry: true });

    expect(response.status).toBe(200);
    expect(gapBetweenLastTwo(upstream, /^\/thing$/)).toBeGreaterThanOrEqual(1000);
  });

  it('caps an absurd Retry-After at the configured longest wait, then retries', async () => {
    upstream.fail({ status: 429, retryAfter: '86400', match: /GET \/thing/ });

    const response = await client(200).request({ method: 'GET', path: '/thing', retry: true });

    expect(response.status).toBe(200);
    const gap = gapBetweenLastTwo(upstream, /^\/thing$/);
    expect(gap).toBeGreaterThanOrEqual(200);
    expect(gap).toBeLessThan(86_400_000);
  });

  it('Vault: a 429 on a transit read is retried after its Retry-After', async () => {
    vault.createKey('changeproof-pipeline');
    const broker = new VaultSecretBroker({
      address: vault.url,
      role: 'changeproof',
      authMount: 'kubernetes',
      serviceAccountTokenPath: join(dir, 'token'),
      kvMount: 'secret',
      transitMount: 'transit',
      transitKeys: { pipeline: 'changeproof-pipeline', 'control-plane': 'changeproof-pipeline' },
      backoffMs: 1,
      timeoutMs: 3000,
    });
    await broker.openLease({ holder: 'warm-up', scopes: [] });
    vault.fail({ status: 429, retryAfter: '1', match: /GET \/v1\/transit\/keys\// });

    const pem = await broker.publicKey('pipeline');

    expect(pem).toContain('BEGIN PUBLIC KEY');
    expect(gapBetweenLastTwo(vault, /^\/v1\/transit\/keys\//)).toBeGreaterThanOrEqual(1000);
  });
});
