import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../src/embedded/registry/index.ts';
import { selfSignedCertificate } from '../../src/embedded/sandbox/tls.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { pushTestImage } from '../reconcile/fixtures.ts';
import { kubectl, startTestSandbox, type Loose } from '../sandbox/helpers.ts';
import { webhookConfiguration } from '../../src/reconcile/admission/webhook.ts';
import { stringify } from 'yaml';
import { runCli, startCli } from '../support/cli.ts';

/*
 * `changeproof admission serve` as a real cluster would run it: HTTPS with a certificate from
 * files (here a self-signed one made the way the sandbox makes its own), answering
 * AdmissionReviews from a client that trusts that certificate alone.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-admission-serve-'));
const tls = selfSignedCertificate('127.0.0.1');
const certFile = join(root, 'webhook.crt');
const keyFile = join(root, 'webhook.key');
let ws: WorkspaceContext;
let registry: RunningRegistry;
let server: ChildProcess;
let url: string;
const images: { signed: string; unsigned: string } = { signed: '', unsigned: '' };

beforeAll(async () => {
  writeFileSync(certFile, tls.certificatePem);
  writeFileSync(keyFile, tls.keyPem, { mode: 0o600 });
  await initWorkspace({ dir: join(root, 'ws'), name: 'admission' });
  ws = await openWorkspace(join(root, 'ws'));
  registry = await startRegistry({ dataDir: join(root, 'registry') });
  const lease = await ws.broker.openLease({ holder: 'test', scopes: ['sign:pipeline'] });
  const signer = await ws.broker.signer(lease.id, 'pipeline');
  images.signed = await pushTestImage(registry.host, signer, 'signed', {});
  images.unsigned = await pushTestImage(registry.host, signer, 'unsigned', { sign: false });
  await ws.broker.revokeLease(lease.id);

  server = startCli([
    ...['admission', 'serve', '-w', ws.paths.root, '--host', '127.0.0.1', '--port', '0'],
    ...['--tls-cert', certFile, '--tls-key', keyFile],
  ]);
  url = (await firstLine(server)).match(/^admission-webhook (\S+)$/)![1]!;
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await registry?.close();
  await ws?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The first line the server prints: the URL it serves, once it listens. */
async function firstLine(child: ChildProcess): Promise<string> {
  let buffer = '';
  for await (const chunk of child.stdout!) {
    buffer += (chunk as Buffer).toString();
    if (buffer.includes('\n')) return buffer.split('\n')[0]!;
  }
  throw new Error(`admission serve exited before listening: ${buffer}`);
}

function pod(uid: string, image: string) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${uid}`, namespace: 'shop' },
        spec: { containers: [{ name: 'web', image }] },
      },
    },
  };
}

/** POSTs a review over HTTPS, trusting only the webhook's own certificate. */
function postReview(body: unknown): Promise<{ status: number; json: Loose }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'POST', ca: tls.certificatePem, headers: { 'content-type': 'application/json' } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(body));
  });
}

describe('changeproof admission serve --tls-cert --tls-key', () => {
  it('serves HTTPS on the address asked for, with the certificate given', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/validate$/);
  });

  it('allows a pod whose image the pipeline signed and attested', async () => {
    const answer = await postReview(pod('ok-1', images.signed));

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'ok-1', allowed: true },
    });
  });

  it('denies an unsigned image, says why, and records the denial', async () => {
    const answer = await postReview(pod('bad-1', images.unsigned));

    expect(answer.json.response).toMatchObject({ uid: 'bad-1', allowed: false });
    expect(answer.json.response.status.message).toContain('has no signature');
    const [denied] = await ws.ledger.list({ kind: 'admission.denied', subject: 'admission:bad-1' });
    expect(denied!.payload).toMatchObject({ name: 'pod-bad-1', images: [images.unsigned] });
  });

  it('is called by an API server that trusts it through caBundle alone', async () => {
    const sandbox = await startTestSandbox({}, join(root, 'sandbox'));
    try {
      const file = join(root, 'webhook.yaml');
      writeFileSync(
        file,
        stringify(webhookConfiguration({ url, caBundlePem: tls.certificatePem })),
      );
      expect((await kubectl(sandbox, ['apply', '-f', file])).code).toBe(0);

      const admitted = await kubectl(sandbox, ['run', 'signed', `--image=${images.signed}`]);
      expect(admitted.stderr).toBe('');
      const refused = await kubectl(sandbox, ['run', 'unsigned', `--image=${images.unsigned}`]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('denied the request');
      expect(refused.stderr).toContain('has no signature');
    } finally {
      await sandbox.stop();
    }
  });

  it('is not reachable over plain HTTP', async () => {
    await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow();
  });
});

describe('changeproof admission serve refuses', () => {
  const refusal = (args: string[]) =>
    runCli(['admission', 'serve', '-w', ws.paths.root, ...args], { env: {} });

  it.each([
    {
      refusal: 'a certificate without its key',
      args: ['--tls-cert', certFile],
      message: '--tls-cert and --tls-key go together; pass both or neither',
    },
    {
      refusal: 'plain HTTP on an address a cluster would reach',
      args: ['--host', '0.0.0.0'],
      message:
        'serving on 0.0.0.0 needs --tls-cert and --tls-key: clusters call webhooks over HTTPS only',
    },
    {
      refusal: 'a key file it cannot read',
      args: ['--tls-cert', certFile, '--tls-key', join(root, 'missing.key')],
      message: `cannot read --tls-key ${join(root, 'missing.key')}`,
    },
    {
      refusal: 'a certificate file that holds no certificate',
      args: ['--tls-cert', keyFile, '--tls-key', keyFile],
      message: `--tls-cert ${keyFile} is not a PEM certificate`,
    },
    {
      refusal: 'a port that is not a number',
      args: ['--port', 'http'],
      message: 'expected a port number from 0 to 65535',
    },
  ])('$refusal in one line with exit 2, serving nothing', ({ args, message }) => {
    const result = refusal(args);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('a port another process holds, naming it', () => {
    const port = new URL(url).port;

    const result = refusal(['--port', port, '--tls-cert', certFile, '--tls-key', keyFile]);

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `changeproof: cannot listen on 127.0.0.1:${port} (EADDRINUSE); pick another --host or --port`,
    );
  });

  it('a key that is not the certificate’s own', () => {
    const other = join(root, 'other.key');
    writeFileSync(other, selfSignedCertificate('127.0.0.1').keyPem, { mode: 0o600 });

    const result = refusal(['--tls-cert', certFile, '--tls-key', other]);

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `changeproof: --tls-key ${other} is not the key of --tls-cert ${certFile}`,
    );
  });
});
