import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubForge } from '../../src/adapters/github/index.ts';
import { StoreDeliveryClaims } from '../../src/adapters/delivery-claims.ts';
import { GithubWebhookReceiver, signWebhook } from '../../src/adapters/github/webhook.ts';
import { startRegistry, type RunningRegistry } from '../../src/embedded/registry/index.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import {
  startAdmissionWebhook,
  type RunningWebhook,
} from '../../src/reconcile/admission/webhook.ts';
import {
  ImageVerifier,
  defaultRequiredPredicates,
} from '../../src/reconcile/image-verification.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';
import { within } from './support/bounded.ts';
import { figures, report } from './support/row.ts';
import { SEED } from './support/prng.ts';

const RUNS = 150;
const SECRET = 'webhook-secret-for-tests';
const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value))),
  fc.string({ maxLength: 500 }).map((text) => Buffer.from(text)),
);

describe('hostile input: GitHub webhooks', () => {
  let ledger: Ledger;
  let receiver: GithubWebhookReceiver;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    ledger = new Ledger(fresh.store);
    // Only a well-formed, correctly signed pull-request event reaches the forge; none here does.
    receiver = new GithubWebhookReceiver({
      secret: SECRET,
      ledger,
      forge: {} as GithubForge,
      claims: new StoreDeliveryClaims(fresh.store, 'github'),
    });
  });
  afterAll(() => dispose());

  it('refuses and records every forged signature', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} webhook deliveries with forged signatures (random, wrong secret, none), seed ${SEED}`,
    });
    const before = (await ledger.list({ kind: 'webhook.rejected' })).length;
    const forged = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 80 }),
      fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b) => `sha256=${Buffer.from(b).toString('hex')}`),
    );
    await fc.assert(
      fc.asyncProperty(bodies, forged, fc.uuid(), async (body, signature, id) => {
        const outcome = await within(
          2000,
          receiver.receive({
            headers: {
              'x-github-delivery': id,
              'x-github-event': 'push',
              'x-hub-signature-256': signature,
            },
            rawBody: body,
          }),
          'the webhook receiver',
        );
        expect(outcome).toMatchObject({ status: 401, outcome: 'rejected' });
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const recorded = (await ledger.list({ kind: 'webhook.rejected' })).length - before;
    figures(context, { refused: RUNS, 'recorded in the ledger': recorded });
    expect(recorded).toBe(RUNS);
  });

  it('answers correctly signed junk without crashing, and records a replay once', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} correctly signed junk bodies, each delivered twice (replay), seed ${SEED}`,
    });
    let crashes = 0;
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.uuid(),
        fc.constantFrom('push', 'pull_request', 'pull_request_review', 'ping'),
        async (body, id, event) => {
          const delivery = {
            headers: {
              'x-github-delivery': id,
              'x-github-event': event,
              'x-hub-signature-256': signWebhook(SECRET, body),
            },
            rawBody: body,
          };
          const first = await within(
            2000,
            receiver.receive(delivery),
            'the webhook receiver',
          ).catch((error: unknown) => {
            crashes += 1;
            throw error;
          });
          expect([202, 400]).toContain(first.status);
          const replay = await within(2000, receiver.receive(delivery), 'the webhook receiver');
          if (first.status === 202) expect(replay.outcome).toBe('duplicate');
          expect(
            await ledger.list({ kind: 'webhook.received', subject: `webhook:github:${id}` }),
          ).toHaveLength(first.status === 202 ? 1 : 0);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    figures(context, { crashes });
  });
});

describe('hostile input: AdmissionReview bodies', () => {
  let webhook: RunningWebhook;
  let ledger: Ledger;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    ledger = new Ledger(fresh.store);
    const verifier = new ImageVerifier({
      publicKeys: [testSigner().publicKeyPem],
      requiredPredicates: defaultRequiredPredicates,
    });
    webhook = await startAdmissionWebhook({ verifier, ledger });
  });
  afterAll(async () => {
    await webhook.close();
    await dispose();
  });

  const post = (body: Buffer | string) =>
    within(
      5000,
      fetch(webhook.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }),
      'the admission webhook',
    );

  it('never admits an unverified image and never fails open on junk', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} junk bodies and ${RUNS} generated pods with unsigned images, plus a 16 MiB review, seed ${SEED}`,
    });
    let badRequests = 0;
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await post(body);
        expect(response.status).toBeLessThan(500);
        const answer = (await response.json()) as {
          response?: { allowed: boolean };
          message?: string;
        };
        if (response.status === 400) badRequests += 1;
        expect(answer.message ?? '').not.toContain('\n');
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const image = fc.oneof(
      fc.string({ minLength: 1, maxLength: 60 }),
      fc.constant(`127.0.0.1:1/x@sha256:${'0'.repeat(64)}`),
    );
    let denied = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(image, { minLength: 1, maxLength: 3 }),
        fc.uuid(),
        async (images, uid) => {
          const review = admissionReview(uid, images);
          const answer = (await (await post(JSON.stringify(review))).json()) as {
            response: { allowed: boolean; uid: string };
          };
          expect(answer.response).toMatchObject({ uid, allowed: false });
          denied += 1;
          // A denial is a decision: recorded once, with the images it refused.
          const entries = await ledger.list({
            kind: 'admission.denied',
            subject: `admission:${uid}`,
          });
          expect(entries).toHaveLength(1);
          expect(entries[0]!.payload.images).toEqual([...new Set(images)].sort());
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );

    // Over the API server's own 3 MiB limit: refused as the API server refuses it, and recorded.
    const huge = JSON.stringify({
      ...admissionReview('big', ['nginx']),
      padding: 'x'.repeat(16 * 1024 * 1024),
    });
    const response = await post(huge);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toMatch(/too large/);
    const oversized = await ledger.list({ kind: 'admission.refused' });
    expect(oversized).toHaveLength(1);
    expect(await ledger.list({ kind: 'admission.denied', subject: 'admission:big' })).toHaveLength(
      0,
    );
    const recorded = (await ledger.list({ kind: 'admission.denied' })).length;
    expect(recorded).toBe(denied);
    figures(context, {
      'junk answered 400': badRequests,
      'pods denied': denied,
      'denials recorded': recorded,
      'oversized review': `${response.status}, recorded`,
    });
  });
});

function admissionReview(uid: string, images: string[]) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'n' },
        spec: { containers: images.map((img, i) => ({ name: `c${i}`, image: img })) },
      },
    },
  };
}

describe('hostile input: OCI registry over HTTP', () => {
  let registry: RunningRegistry;
  let dir: string;
  let ledger: Ledger;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'changeproof-hostile-registry-'));
    const fresh = await freshStore('sqlite');
    dispose = fresh.dispose;
    ledger = new Ledger(fresh.store);
    registry = await startRegistry({ dataDir: join(dir, 'data'), ledger });
  });
  afterAll(async () => {
    await registry.close();
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (path: string, init: RequestInit = {}) =>
    within(5000, fetch(`${registry.url}${path}`, init), 'the registry');

  it('refuses junk manifests, traversal names, oversized bodies and a tampered layer', async (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} junk manifests, traversal repository names, a 5 MiB manifest, a layer whose bytes do not match its digest, seed ${SEED}; each refusal recorded, rate-limited, without its body`,
    });
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await request('/v2/shop/app/manifests/junk', {
          method: 'PUT',
          body,
          headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: RUNS, seed: SEED },
    );

    const traversal = [
      '../../../etc',
      '..%2f..%2fetc',
      'a/../../b',
      '%2e%2e/%2e%2e/x',
      'a//b',
      'UPPER/case',
    ];
    for (const name of traversal) {
      const response = await request(`/v2/${name}/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, {
        method: 'POST',
        body: 'x',
      });
      expect(response.status, name).toBeGreaterThanOrEqual(400);
      expect(response.status, name).toBeLessThan(500);
    }
    expect(existsSync(join(dir, 'etc'))).toBe(false);

    const oversized = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const big = await request('/v2/shop/app/manifests/big', {
      method: 'PUT',
      body: oversized,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect([400, 413]).toContain(big.status);

    const layer = randomBytes(1024);
    const claimed = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const tampered = Buffer.from(layer);
    tampered[0] = tampered[0]! ^ 0xff;
    const upload = await request(`/v2/shop/app/blobs/uploads/?digest=${claimed}`, {
      method: 'POST',
      body: tampered,
    });
    expect(upload.status).toBe(400);
    expect(((await upload.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      'DIGEST_INVALID',
    );
    expect((await request(`/v2/shop/app/blobs/${claimed}`, { method: 'HEAD' })).status).toBe(404);

    // Recorded: one entry per code in the minute, the name cut short, never a body.
    const recorded = (await ledger.list({ kind: 'registry.refused' })).map((e) =>
      evidenceOf(e, 'registry.refused')!,
    );
    const codes = recorded.map((r) => r.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'MANIFEST_INVALID',
        'NAME_INVALID',
        'SIZE_INVALID',
        'DIGEST_INVALID',
      ]),
    );
    // Every junk manifest was refused, but a flood of one code is one entry a minute.
    expect(recorded.length).toBeLessThan(RUNS / 10);
    expect(recorded.find((r) => r.code === 'SIZE_INVALID')).toMatchObject({
      status: 413,
      name: 'shop/app',
    });
    expect(recorded.every((r) => (r.name ?? '').length <= 128)).toBe(true);
    const largest = Math.max(...recorded.map((r) => JSON.stringify(r).length));
    expect(largest).toBeLessThan(1024);
    figures(context, {
      'refusal entries': recorded.length,
      'largest entry (bytes)': largest,
      'junk manifests refused': RUNS,
      'traversal names refused': traversal.length,
      'oversized manifest': big.status,
      'tampered layer': upload.status,
    });
  });
});
