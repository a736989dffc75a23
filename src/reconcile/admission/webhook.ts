import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { messageOf, UsageError } from '../../errors.ts';
import type { KubeObject } from '../../gitops/render.ts';
import type { JsonValue } from '../../ledger/canonical.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { imagesIn, type ImageVerifier } from '../image-verification.ts';

const reviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    uid: z.string(),
    operation: z.string().optional(),
    object: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});

/** What the Kubernetes API server accepts as a request body; a larger review is refused. */
export const MAX_REVIEW_BYTES = 3 * 1024 * 1024;

export interface AdmissionWebhookOptions {
  verifier: ImageVerifier;
  /** Where denials and oversized reviews are recorded; nothing is recorded without one. */
  ledger?: Ledger;
  /** The largest review body read, {@link MAX_REVIEW_BYTES} by default. */
  maxBodyBytes?: number;
  host?: string;
  port?: number;
  /** Serve HTTPS with this key and certificate (real clusters call webhooks over TLS only). */
  tls?: { keyPem: string; certificatePem: string };
}

export interface RunningWebhook {
  /** The URL to put in a ValidatingWebhookConfiguration's `clientConfig.url`. */
  url: string;
  close(): Promise<void>;
}

/**
 * A ValidatingAdmissionWebhook (AdmissionReview v1) that refuses pods and workloads whose images
 * are not pinned by digest and signed, with the required attestations, by the configured keys.
 * It fails closed: a review it cannot read or an image it cannot check is denied.
 */
export async function startAdmissionWebhook(
  options: AdmissionWebhookOptions,
): Promise<RunningWebhook> {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    // failurePolicy Fail: an answer that is not an allowing review is a denial.
    review(options, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: `changeproof: review failed: ${messageOf(error)}` }));
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certificatePem }, handler)
    : createServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          `cannot listen on ${host}:${options.port ?? 0} (${error.code ?? error.message}); pick another --host or --port`,
        ),
      ),
    );
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}/validate`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function review(
  options: AdmissionWebhookOptions,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const limit = options.maxBodyBytes ?? MAX_REVIEW_BYTES;
  const body = await readLimited(request, limit);
  if (!body) {
    await record(options.ledger, 'admission.refused', 'oversized', {
      reason: `review body over ${limit} bytes`,
    });
    // What the API server answers for a body over its limit; the rest is drained, not kept.
    response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    response.end(JSON.stringify({ message: `request entity too large: limit is ${limit} bytes` }));
    return;
  }
  let parsed;
  try {
    parsed = reviewSchema.parse(JSON.parse(body.toString('utf8')));
  } catch (error) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `not an AdmissionReview v1: ${reasonOf(error)}` }));
    return;
  }
  const { uid, object } = parsed.request;
  const workload = object as KubeObject | null | undefined;
  const verdict = await decide(options.verifier, workload);
  if (!verdict.allowed) await recordDenial(options.ledger, uid, workload, verdict.message);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: verdict.allowed
        ? { uid, allowed: true }
        : {
            uid,
            allowed: false,
            status: { code: 403, reason: 'Forbidden', message: verdict.message },
          },
    }),
  );
}

/** The request body, or undefined once it passes `limit` bytes (the rest is read and dropped). */
async function readLimited(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
    else chunks.length = 0;
  }
  return size <= limit ? Buffer.concat(chunks) : undefined;
}

/** A denial is a decision: which workload, which images, and why. */
async function recordDenial(
  ledger: Ledger | undefined,
  uid: string,
  workload: KubeObject | null | undefined,
  reason = 'denied',
): Promise<void> {
  await record(ledger, 'admission.denied', uid, {
    uid,
    kind: String(workload?.kind ?? ''),
    namespace: String(workload?.metadata?.namespace ?? ''),
    name: String(workload?.metadata?.name ?? ''),
    images: imagesOf(workload),
    reason,
  });
}

/** The images a workload names, or none when its shape is too broken to read them. */
function imagesOf(workload: KubeObject | null | undefined): string[] {
  try {
    return workload ? imagesIn([workload]) : [];
  } catch {
    return [];
  }
}

async function record(
  ledger: Ledger | undefined,
  kind: 'admission.denied' | 'admission.refused',
  uid: string,
  payload: { [key: string]: JsonValue },
): Promise<void> {
  await ledger?.append({
    kind,
    subject: `admission:${uid}`,
    actor: 'system:admission-webhook',
    payload,
  });
}

/** One line: zod's own message lists every issue as indented JSON. */
function reasonOf(error: unknown): string {
  if (!(error instanceof z.ZodError)) return messageOf(error);
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'the body'}: ${issue.message}` : 'invalid';
}

async function decide(
  verifier: ImageVerifier,
  object: KubeObject | null | undefined,
): Promise<{ allowed: boolean; message?: string }> {
  if (!object) return { allowed: true }; // DELETE carries no object to run
  try {
    const verdicts = await verifier.verifyAll(imagesIn([object]));
    const refused = verdicts.flatMap((v) => (v.trusted ? [] : [v.reason]));
    return refused.length === 0
      ? { allowed: true }
      : { allowed: false, message: `changeproof: ${refused.join('; ')}` };
  } catch (error) {
    return { allowed: false, message: `changeproof: cannot verify images: ${messageOf(error)}` };
  }
}

/** A ValidatingWebhookConfiguration that sends pod and workload writes to the webhook. */
export function webhookConfiguration(options: {
  url: string;
  caBundlePem?: string;
  timeoutSeconds?: number;
  name?: string;
}): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: options.name ?? 'changeproof-image-signatures' },
    webhooks: [
      {
        name: 'images.changeproof.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: options.timeoutSeconds ?? 10,
        clientConfig: {
          url: options.url,
          ...(options.caBundlePem
            ? { caBundle: Buffer.from(options.caBundlePem).toString('base64') }
            : {}),
        },
        rules: [
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: [''],
            apiVersions: ['v1'],
            resources: ['pods'],
          },
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['apps'],
            apiVersions: ['v1'],
            resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
          },
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['batch'],
            apiVersions: ['v1'],
            resources: ['jobs', 'cronjobs'],
          },
        ],
      },
    ],
  };
}
