import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  deployment,
  eventually,
  removeDir,
  startTestSandbox,
  type TestSandbox,
  type Loose,
} from './helpers.ts';

const deployments = '/apis/apps/v1/namespaces/default/deployments';
const webhookConfigs = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
let sandbox: TestSandbox;
let webhook: Server;
let webhookUrl: string;
const reviews: Loose[] = [];

beforeAll(async () => {
  // A validating webhook that refuses images tagged :latest and hangs on names starting "slow".
  webhook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      reviews.push(review);
      if (String(review.request.name).startsWith('slow')) return;
      const images: string[] = (review.request.object?.spec?.template?.spec?.containers ?? []).map(
        (c: { image: string }) => c.image,
      );
      const allowed = !images.some((image) => image.endsWith(':latest'));
      const status = allowed
        ? undefined
        : { code: 403, message: 'images must not use the latest tag' };
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed, status },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/validate`;

  const refused = new Set(['registry.local/unsigned:1.0']);
  sandbox = await startTestSandbox({
    imagePolicy: async (image) =>
      refused.has(image)
        ? { allowed: false, reason: 'no signature from the pipeline identity' }
        : { allowed: true },
  });
});

afterAll(async () => {
  await sandbox.stop();
  webhook.closeAllConnections();
  await new Promise((resolve) => webhook.close(resolve));
  removeDir(sandbox.dir);
});

function webhookConfiguration(
  name: string,
  failurePolicy: 'Fail' | 'Ignore',
  objectSelector?: object,
): object {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `${name}.changeproof.dev`,
        clientConfig: { url: webhookUrl },
        rules: [
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['apps'],
            apiVersions: ['v1'],
            resources: ['deployments'],
          },
        ],
        failurePolicy,
        timeoutSeconds: 1,
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        ...(objectSelector ? { objectSelector } : {}),
      },
    ],
  };
}

describe('validating admission webhooks', () => {
  it('sends an AdmissionReview and refuses what the webhook denies, storing nothing', async () => {
    expect(
      (await api(sandbox, 'POST', webhookConfigs, webhookConfiguration('no-latest', 'Fail')))
        .status,
    ).toBe(201);
    const denied = await api(
      sandbox,
      'POST',
      deployments,
      deployment('web', 'registry.local/web:latest'),
    );
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(
      'admission webhook "no-latest.changeproof.dev" denied the request: images must not use the latest tag',
    );
    expect((await api(sandbox, 'GET', `${deployments}/web`)).status).toBe(404);

    const allowed = await api(
      sandbox,
      'POST',
      deployments,
      deployment('web', 'registry.local/web:1.0'),
    );
    expect(allowed.status).toBe(201);
    const last = reviews.at(-1);
    expect(last).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        operation: 'CREATE',
        name: 'web',
        namespace: 'default',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      },
    });
  });

  it('refuses when a Fail webhook times out, and lets the write through when it is Ignore', async () => {
    const timedOut = await api(sandbox, 'POST', deployments, deployment('slow-a'));
    expect(timedOut.status).toBe(500);
    expect(timedOut.body.message).toContain('failed calling webhook "no-latest.changeproof.dev"');
    expect((await api(sandbox, 'GET', `${deployments}/slow-a`)).status).toBe(404);

    await api(sandbox, 'DELETE', `${webhookConfigs}/no-latest`);
    await api(sandbox, 'POST', webhookConfigs, webhookConfiguration('lenient', 'Ignore'));
    expect((await api(sandbox, 'POST', deployments, deployment('slow-b'))).status).toBe(201);
    await api(sandbox, 'DELETE', `${webhookConfigs}/lenient`);
  });
});

describe('workload simulation', () => {
  it('rolls a deployment out to ready after the delay, with observedGeneration', async () => {
    await api(sandbox, 'POST', deployments, deployment('ready', 'registry.local/web:1.0', 3));
    await eventually(
      async () =>
        (await api(sandbox, 'GET', `${deployments}/ready`)).body.status?.availableReplicas === 3,
    );
    const live = (await api(sandbox, 'GET', `${deployments}/ready`)).body;
    expect(live.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
    });
    expect(live.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Available', status: 'True' }),
        expect.objectContaining({
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
        }),
      ]),
    );
  });

  it('never readies a deployment whose image the policy refuses, and says why', async () => {
    await api(sandbox, 'POST', deployments, deployment('unsigned', 'registry.local/unsigned:1.0'));
    await eventually(async () =>
      (await api(sandbox, 'GET', `${deployments}/unsigned`)).body.status?.conditions?.some(
        (c: Loose) => c.reason === 'ProgressDeadlineExceeded',
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const live = (await api(sandbox, 'GET', `${deployments}/unsigned`)).body;
    expect(live.status.readyReplicas).toBeUndefined();
    expect(live.status.unavailableReplicas).toBe(2);
    const available = live.status.conditions.find((c: Loose) => c.type === 'Available');
    const progressing = live.status.conditions.find((c: Loose) => c.type === 'Progressing');
    expect(available).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(progressing.status).toBe('False');
    expect(progressing.message).toContain(
      'image "registry.local/unsigned:1.0" is not allowed: no signature from the pipeline identity',
    );
  });

  it('writes status only through the status subresource', async () => {
    const live = (await api(sandbox, 'GET', `${deployments}/ready`)).body;
    const spoofed = await api(sandbox, 'PUT', `${deployments}/ready`, {
      ...live,
      status: { readyReplicas: 99 },
    });
    expect(spoofed.body.status.readyReplicas).toBe(3);
    const patch = { status: { observedGeneration: 1, readyReplicas: 1 } };
    const viaStatus = await api(sandbox, 'PATCH', `${deployments}/ready/status`, patch, {
      contentType: 'application/merge-patch+json',
    });
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.body.status.readyReplicas).toBe(1);
    expect(viaStatus.body.metadata.generation).toBe(1);
  });
});
