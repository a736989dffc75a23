import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.ts';
import { sha256Digest } from '../../src/supply-chain/digest.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { RegistryError } from '../../src/supply-chain/oci/errors.ts';
import { buildTestImage } from './fixtures.ts';
import { freePort, startTestRegistry } from './servers.ts';

type TestRegistry = Awaited<ReturnType<typeof startTestRegistry>>;
const fastRetry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 2_000 };

/**
 * A loopback front that can answer some requests itself (to play a failing or lying registry)
 * and forwards the rest to the embedded registry.
 */
async function startFront(
  target: TestRegistry,
  intercept: (request: IncomingMessage, response: ServerResponse) => boolean,
) {
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    if (intercept(request, response)) return;
    void forward(target, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

async function forward(target: TestRegistry, request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => !['host', 'connection'].includes(name)),
  ) as Record<string, string>;
  const method = request.method ?? 'GET';
  const upstream = await fetch(`${target.url}${request.url}`, {
    method,
    headers,
    body: ['GET', 'HEAD'].includes(method) ? undefined : Buffer.concat(chunks),
  });
  const body = Buffer.from(await upstream.arrayBuffer());
  const outgoing = Object.fromEntries(upstream.headers.entries());
  delete outgoing['content-encoding'];
  response.writeHead(upstream.status, outgoing);
  response.end(body);
}

describe('RegistryClient authentication', () => {
  const registries: TestRegistry[] = [];
  afterAll(async () => {
    for (const registry of registries) await registry.stop();
  });

  const start = async (auth: Parameters<typeof startTestRegistry>[0]) => {
    const registry = await startTestRegistry(auth);
    registries.push(registry);
    return registry;
  };

  it('answers a Basic challenge with the configured credentials', async () => {
    const registry = await start({ auth: { username: 'ci', password: 's3cret' } });
    const unauthenticated = await fetch(`${registry.url}/v2/`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/^Basic realm=/);

    const client = new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { username: 'ci', password: 's3cret' },
    });
    const image = buildTestImage(100);
    await client.pushArtifact('shop/basic', image, 'v1');
    expect((await client.getManifest('shop/basic', 'v1')).digest).toBe(image.manifestDigest);
  });

  it('refuses wrong credentials with UNAUTHORIZED', async () => {
    const registry = await start({ auth: { username: 'ci', password: 's3cret' } });
    const client = new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { username: 'ci', password: 'wrong' },
    });
    await expect(client.ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('follows the bearer token flow: challenge, token endpoint, retry', async () => {
    const registry = await start({ auth: { username: 'ci', password: 'pw', tokenAuth: true } });
    const challenge = await fetch(`${registry.url}/v2/shop/token/tags/list`);
    expect(challenge.headers.get('www-authenticate')).toBe(
      `Bearer realm="${registry.url}/token",service="changeproof-registry",scope="repository:shop/token:pull"`,
    );

    const client = new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { username: 'ci', password: 'pw' },
    });
    const image = buildTestImage(100);
    await client.pushArtifact('shop/token', image, 'v1');
    expect(await client.listTags('shop/token')).toEqual(['v1']);
  });

  it('sends a static bearer token as is', async () => {
    const registry = await start({ auth: { bearerToken: 'pre-issued' } });
    const good = new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { token: 'pre-issued' },
    });
    await expect(good.ping()).resolves.toBeUndefined();
    const bad = new RegistryClient({
      registry: registry.host,
      insecure: true,
      auth: { token: 'x' },
    });
    await expect(bad.ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('RegistryClient failures', () => {
  let registry: TestRegistry;
  let front: Awaited<ReturnType<typeof startFront>> | undefined;

  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });
  afterAll(() => registry.stop());

  it('retries 5xx with backoff until the registry answers', async () => {
    let failures = 2;
    front = await startFront(registry, (request, response) => {
      if (request.method !== 'PUT' || !request.url?.includes('/manifests/')) return false;
      if (failures-- <= 0) return false;
      request.resume();
      response.writeHead(503).end();
      return true;
    });
    const client = new RegistryClient({ registry: front.host, insecure: true, retry: fastRetry });
    const image = buildTestImage(100);
    await client.pushArtifact('shop/flaky', image, 'v1');

    const manifestPuts = front.seen.filter((line) => line === 'PUT /v2/shop/flaky/manifests/v1');
    expect(manifestPuts).toHaveLength(3);
    expect((await client.getManifest('shop/flaky', 'v1')).digest).toBe(image.manifestDigest);
  });

  it('retries a dropped connection and a timed-out request', async () => {
    let calls = 0;
    front = await startFront(registry, (request) => {
      calls++;
      if (calls === 1) request.socket.destroy();
      // the second request is never answered: the client's idle timeout fires
      return calls <= 2;
    });
    const client = new RegistryClient({
      registry: front.host,
      insecure: true,
      retry: fastRetry,
      timeoutMs: 300,
    });
    await expect(client.ping()).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });

  it('honours Retry-After on 429', async () => {
    let limited = true;
    front = await startFront(registry, (_request, response) => {
      if (!limited) return false;
      limited = false;
      response.writeHead(429, { 'Retry-After': '1' }).end();
      return true;
    });
    const client = new RegistryClient({ registry: front.host, insecure: true, retry: fastRetry });
    const started = Date.now();
    await client.ping();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a 4xx', async () => {
    front = await startFront(registry, (_request, response) => {
      response.writeHead(403, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no push here' }] }));
      return true;
    });
    const client = new RegistryClient({ registry: front.host, insecure: true, retry: fastRetry });
    await expect(client.blobExists('shop/x', sha256Digest('x'))).rejects.toMatchObject({
      code: 'DENIED',
    });
    expect(front.seen).toHaveLength(1);
  });

  it('gives up on 5xx after the configured attempts with an UpstreamError', async () => {
    front = await startFront(registry, (_request, response) => {
      response.writeHead(502).end();
      return true;
    });
    const client = new RegistryClient({ registry: front.host, insecure: true, retry: fastRetry });
    const error = await client.ping().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toMatch(/answered 502/);
    expect(front.seen).toHaveLength(3);
  });

  it('reports an unreachable registry as a one-line UpstreamError', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const client = new RegistryClient({ registry: host, insecure: true, retry: fastRetry });
    const error = await client.ping().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', system: 'registry' });
    expect((error as Error).message).toBe(
      `registry ${host} is unreachable (ECONNREFUSED); check the address and that it is running`,
    );
  });

  it('refuses an invalid repository or reference before contacting the registry', async () => {
    // nothing listens there: a network attempt would fail differently
    const client = new RegistryClient({
      registry: `127.0.0.1:${await freePort()}`,
      insecure: true,
    });
    await expect(client.pushBlob('../etc', Buffer.from('x'))).rejects.toMatchObject({
      code: 'NAME_INVALID',
    });
    await expect(client.getManifest('shop/cart', 'v1/../../x')).rejects.toMatchObject({
      code: 'REFERENCE_INVALID',
    });
  });

  it('refuses a blob whose content does not match its descriptor and pushes nothing', async () => {
    const image = buildTestImage(100);
    const layer = image.blobs[1]!;
    const tampered = {
      ...image,
      blobs: [image.blobs[0]!, { ...layer, bytes: Buffer.from('evil') }],
    };
    const client = new RegistryClient({ registry: registry.host, insecure: true });

    const error = await client.pushArtifact('shop/tampered', tampered, 'v1').catch((e) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await client.blobExists('shop/tampered', layer.descriptor.digest)).toBe(false);
    expect(await client.blobExists('shop/tampered', sha256Digest('evil'))).toBe(false);
    await expect(client.getManifest('shop/tampered', 'v1')).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
  });

  it('refuses tampered bytes even when the registry already holds the genuine blob', async () => {
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    const image = buildTestImage(100);
    await client.pushArtifact('shop/held', image, 'v1');
    const layer = image.blobs[1]!;

    await expect(
      client.pushBlob('shop/held', Buffer.from('evil'), {
        expectedDigest: layer.descriptor.digest,
      }),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('refuses when the registry reports a different digest than the content has', async () => {
    front = await startFront(registry, (request, response) => {
      if (request.method !== 'PUT' || !request.url?.includes('/blobs/uploads/')) return false;
      request.resume();
      response.writeHead(201, { 'Docker-Content-Digest': sha256Digest('something else') }).end();
      return true;
    });
    const client = new RegistryClient({ registry: front.host, insecure: true, retry: fastRetry });
    await expect(client.pushBlob('shop/lying', Buffer.from('content'))).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });

  it('refuses a pulled blob that does not hash to its digest', async () => {
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    const { digest } = await client.pushBlob('shop/pull', Buffer.from('genuine'));
    front = await startFront(registry, (request, response) => {
      if (request.method !== 'GET' || !request.url?.includes('/blobs/')) return false;
      response.writeHead(200, { 'Docker-Content-Digest': digest }).end('forged');
      return true;
    });
    const viaFront = new RegistryClient({ registry: front.host, insecure: true });
    await expect(viaFront.pullBlob('shop/pull', digest)).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });
});
