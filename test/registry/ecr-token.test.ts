import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import { registryClientFor } from '../../src/delivery/registry-access.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { openRegistryStorage } from '../../src/embedded/registry/index.ts';
import { EmbeddedSecretBroker } from '../../src/embedded/secret-broker/broker.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { deliveryFixture, type DeliveryFixture } from '../delivery/helpers/setup.ts';
import { freshStore } from '../support/stores.ts';
import { buildTestImage } from './fixtures.ts';
import { startTestRegistry, temporaryDirectory } from './servers.ts';

/* ECR authorization tokens as the broker secret, against the embedded registry with Basic auth. */

const password = 'ecr-password-of-today';
const hour = 3_600_000;

/** What `aws ecr get-authorization-token --output json` prints for the registry at `host`. */
function ecrResponse(host: string, tokenPassword: string, expiresAt: Date) {
  return {
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${tokenPassword}`).toString('base64'),
        expiresAt: expiresAt.toISOString().replace('Z', '+00:00'),
        proxyEndpoint: `http://${host}`,
      },
    ],
  };
}

/** The error `promise` is refused with; fails the test when it succeeds instead. */
async function refusalOf(promise: Promise<unknown>): Promise<Error & { code: string }> {
  const refusal = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown as Error & { code: string },
  );
  if (!refusal) throw new Error('expected a refusal, but it succeeded');
  return refusal;
}

describe('ECR authorization tokens as registry credentials', () => {
  let registry: Awaited<ReturnType<typeof startTestRegistry>>;
  let broker: EmbeddedSecretBroker;
  let leaseId: string;
  const keys = temporaryDirectory('changeproof-ecr-keys-');
  const disposers: (() => Promise<void> | void)[] = [keys.remove];

  /** Stores `secret` at `registry/<host>`, as a credential helper refreshing it would. */
  function storeSecret(secret: unknown): void {
    const text = typeof secret === 'string' ? secret : JSON.stringify(secret);
    writeFileSync(
      join(keys.path, 'secrets.json'),
      JSON.stringify({ [`registry/${registry.host}`]: text }),
      { mode: 0o600 },
    );
  }

  const client = () => registryClientFor({ host: registry.host, insecure: true }, broker, leaseId);

  /** A client with the right password, to see what the registry holds. */
  const inspector = () =>
    new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { username: 'AWS', password },
    });

  beforeAll(async () => {
    registry = await startTestRegistry({ auth: { username: 'AWS', password } });
    disposers.push(() => registry.stop());
    mkdirSync(keys.path, { recursive: true });
    const { store, dispose } = await freshStore('sqlite');
    disposers.push(dispose);
    broker = new EmbeddedSecretBroker({ keysDir: keys.path, store });
    leaseId = (await broker.openLease({ holder: 'pipeline:ecr', scopes: ['read:registry/'] })).id;
  });
  afterAll(async () => {
    for (const dispose of disposers.reverse()) await dispose();
  });

  it('pushes with the whole GetAuthorizationToken response, sent as Basic auth', async () => {
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(401);
    storeSecret(ecrResponse(registry.host, password, new Date(Date.now() + 12 * hour)));
    const image = buildTestImage(1_000);

    await (await client()).pushArtifact('shop/cart', image, 'v1');

    const pulled = await inspector().getManifest('shop/cart', 'v1');
    expect(pulled.digest).toBe(image.manifestDigest);
  });

  it('accepts one authorizationData entry on its own, with expiresAt in epoch seconds', async () => {
    storeSecret({
      authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
      expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
      proxyEndpoint: `http://${registry.host}`,
    });
    const image = buildTestImage(2_000);

    await (await client()).pushArtifact('shop/entry', image, 'v1');

    expect((await inspector().getManifest('shop/entry', 'v1')).digest).toBe(image.manifestDigest);
  });

  it('reads an expired token again before sending it', async () => {
    storeSecret(ecrResponse(registry.host, 'expired-password', new Date(Date.now() - hour)));
    const registryClient = await client();
    // the credential helper stores today's token after the client read yesterday's
    storeSecret(ecrResponse(registry.host, password, new Date(Date.now() + 12 * hour)));
    const image = buildTestImage(3_000);

    await registryClient.pushArtifact('shop/renewed', image, 'v1');

    expect((await inspector().getManifest('shop/renewed', 'v1')).digest).toBe(image.manifestDigest);
  });

  it('refuses a token still expired when read again, in one line, sending nothing', async () => {
    // the right password: only the client's own expiry check can refuse it
    storeSecret(ecrResponse(registry.host, password, new Date(Date.now() - hour)));
    const registryClient = await client();

    const error = await refusalOf(
      registryClient.pushArtifact('shop/stale', buildTestImage(4_000), 'v1'),
    );

    expect(error).toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
    expect(error.message).toMatch(
      new RegExp(`^the registry token in broker secret registry/${registry.host} expired at `),
    );
    expect(error.message).not.toContain('\n');
    expect(await inspector().listTags('shop/stale')).toEqual([]);
  });

  it('reads the secret again when the registry refuses a token before its expiry', async () => {
    storeSecret(ecrResponse(registry.host, 'revoked-password', new Date(Date.now() + hour)));
    const registryClient = await client();
    storeSecret(ecrResponse(registry.host, password, new Date(Date.now() + 12 * hour)));
    const image = buildTestImage(5_000);

    await registryClient.pushArtifact('shop/rotated', image, 'v1');

    expect((await inspector().getManifest('shop/rotated', 'v1')).digest).toBe(image.manifestDigest);
  });

  it('gives up with UNAUTHORIZED when the token read again is refused too', async () => {
    storeSecret(ecrResponse(registry.host, 'wrong-password', new Date(Date.now() + hour)));

    await expect((await client()).ping()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: `registry ${registry.host} refused the credentials`,
    });
  });

  const malformed: [string, (host: string) => unknown, RegExp][] = [
    ['not JSON', () => 'AWS:hunter2', /\(it is not JSON\)/],
    ['no authorization data', () => ({ authorizationData: [] }), /at authorizationData/],
    [
      'a token that is not base64 of user:password',
      (host) => ({
        authorizationToken: Buffer.from('hunter2').toString('base64'),
        expiresAt: '2030-01-01T00:00:00Z',
        proxyEndpoint: `http://${host}`,
      }),
      /authorizationToken is not base64 of <user>:<password>/,
    ],
    [
      'an expiresAt that is no time',
      (host) => ({
        ...ecrResponse(host, 'hunter2', new Date()).authorizationData[0],
        expiresAt: 'tomorrow',
      }),
      /expected an ISO 8601 time at expiresAt/,
    ],
    ['a password missing', () => ({ username: 'AWS' }), /at password/],
  ];

  it.each(malformed)('refuses a secret with %s in one line, never echoing it', async (...c) => {
    const [, secret, reason] = c;
    storeSecret(secret(registry.host));

    const error = await refusalOf(client());

    expect(error).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(error.message).toMatch(
      new RegExp(`^broker secret registry/${registry.host} is not registry credentials `),
    );
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses an ECR token issued for another registry', async () => {
    const other = 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const secret = ecrResponse(registry.host, password, new Date(Date.now() + hour));
    secret.authorizationData[0]!.proxyEndpoint = other;
    storeSecret(secret);

    await expect(client()).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
      message: `broker secret registry/${registry.host} holds an ECR token for ${other}, not ${registry.host}; store the token of ${registry.host}'s registry`,
    });
  });
});

describe('deliver with a malformed registry secret', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
  });
  afterAll(() => fixture?.close());

  it('fails at the push in one line, records delivery.failed and pushes nothing', async () => {
    writeFileSync(
      join(fixture.ws.paths.keysDir, 'secrets.json'),
      JSON.stringify({ [`registry/${fixture.registry.host}`]: '{"authorizationData": "x"}' }),
      { mode: 0o600 },
    );

    const error = await refusalOf(
      deliver({ service: 'checkout', env: 'dev', sourceDir: fixture.appDir }, fixture.deps()),
    );

    expect(error).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(error.message).not.toContain('\n');
    const [failed] = await fixture.ws.ledger.list({ kind: 'delivery.failed' });
    expect(evidenceOf(failed!, 'delivery.failed')).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    const storage = openRegistryStorage(fixture.ws.paths.registryDir);
    expect(storage.listManifests('checkout')).toEqual([]);
    await expect(fixture.forge.listProposals()).resolves.toEqual([]);
  });
});
