import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { OciHttpError } from '../../src/embedded/registry/errors.ts';
import { RegistryRefusalRecorder } from '../../src/embedded/registry/refusals.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { freshStore } from '../support/stores.ts';
import { startTestRegistry } from './servers.ts';

type TestRegistry = Awaited<ReturnType<typeof startTestRegistry>>;

describe('embedded registry: refusals in the ledger', () => {
  let registry: TestRegistry;
  let ledger: Ledger;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    ledger = new Ledger(fresh.store);
    registry = await startTestRegistry({ ledger, limits: { manifestBytes: 16 * 1024 } });
  });
  afterAll(async () => {
    await registry.stop();
    await dispose();
  });

  const refusals = async () =>
    (await ledger.list({ kind: 'registry.refused' })).map((e) => ({
      subject: e.subject,
      payload: evidenceOf(e, 'registry.refused')!,
    }));

  it('records a traversal name once per code, cut short, and counts the rest', async () => {
    const name = `..%2f..%2fetc%2f${'x'.repeat(400)}`;
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${registry.url}/v2/${name}/manifests/v1`);
      expect(response.status).toBe(400);
    }

    const recorded = (await refusals()).filter((r) => r.payload.code === 'NAME_INVALID');

    expect(recorded).toHaveLength(1);
    const [{ subject, payload }] = recorded as [(typeof recorded)[number]];
    expect(subject).toBe('registry:embedded');
    expect(payload).toMatchObject({ status: 400, method: 'GET', endpoint: 'manifest' });
    expect(payload.name).toHaveLength(128);
    expect(payload.name!.startsWith('../../etc/xxx')).toBe(true);
    expect(payload.name!.endsWith('…')).toBe(true);
    expect(payload.reason.length).toBeLessThanOrEqual(200);
  });

  it('records an oversized manifest with its repository, never its body', async () => {
    const marker = 'BODY-MARKER-7f3a';
    const response = await fetch(`${registry.url}/v2/shop/cart/manifests/big`, {
      method: 'PUT',
      headers: { 'Content-Type': MediaType.imageManifest },
      body: `${marker}${' '.repeat(17 * 1024)}`,
    });
    expect(response.status).toBe(413);

    const recorded = (await refusals()).find((r) => r.payload.code === 'SIZE_INVALID');
    expect(recorded?.payload).toMatchObject({
      status: 413,
      method: 'PUT',
      endpoint: 'manifest',
      name: 'shop/cart',
    });
    const entries = await ledger.list({});
    expect(entries.some((e) => JSON.stringify(e.payload).includes(marker))).toBe(false);
  });

  it('leaves the protocol’s ordinary answers unrecorded', async () => {
    const before = (await refusals()).length;
    expect((await fetch(`${registry.url}/v2/shop/cart/manifests/absent`)).status).toBe(404);
    expect(
      (await fetch(`${registry.url}/v2/shop/cart/blobs/sha256:${'0'.repeat(64)}`)).status,
    ).toBe(404);
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    expect((await refusals()).length).toBe(before);
  });
});

describe('RegistryRefusalRecorder', () => {
  it('writes the next refusal of a code after the window with the count it held back', async () => {
    const { store, dispose } = await freshStore('sqlite');
    try {
      const ledger = new Ledger(store);
      let now = new Date('2026-07-01T00:00:00Z');
      const recorder = new RegistryRefusalRecorder(ledger, () => now, 60_000);
      const refusal = new OciHttpError(400, 'TAG_INVALID', 'tag "-x" is invalid');
      const request = { method: 'PUT', url: new URL('http://r/v2/shop/cart/manifests/-x') };

      for (let i = 0; i < 3; i += 1) await recorder.record(refusal, request);
      // A range the blob cannot serve is not hostile: not recorded.
      await recorder.record(new OciHttpError(416, 'SIZE_INVALID', 'range'), request);
      now = new Date(now.getTime() + 60_000);
      await recorder.record(refusal, request);

      const payloads = (await ledger.list({ kind: 'registry.refused' })).map((e) =>
        evidenceOf(e, 'registry.refused'),
      );
      expect(payloads).toEqual([
        expect.not.objectContaining({ suppressed: expect.anything() }),
        expect.objectContaining({ code: 'TAG_INVALID', name: 'shop/cart', suppressed: 2 }),
      ]);
    } finally {
      await dispose();
    }
  });
});
