import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { messageOf } from '../../errors.ts';
import type { KubeObject } from '../../gitops/render.ts';
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

export interface AdmissionWebhookOptions {
  verifier: ImageVerifier;
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
    void review(options.verifier, request, response);
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certificatePem }, handler)
    : createServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
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

async function review(verifier: ImageVerifier, request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let parsed;
  try {
    parsed = reviewSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (error) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `not an AdmissionReview v1: ${reasonOf(error)}` }));
    return;
  }
  const { uid, object } = parsed.request;
  const verdict = await decide(verifier, object as KubeObject | null | undefined);
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
