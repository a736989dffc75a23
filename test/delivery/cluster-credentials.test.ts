import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterCredentialsFound,
  type ClusterCredentialProbe,
} from '../../src/delivery/cluster-credentials.ts';
import { deliver } from '../../src/delivery/pipeline.ts';
import type { DeliveryDeps } from '../../src/delivery/types.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { Lease, SecretBroker } from '../../src/domain/secret-broker.ts';
import { deliveryFixture, demoAppCheckout, type DeliveryFixture } from './helpers/setup.ts';

const lease = (scopes: string[]): Lease => ({
  id: 'lease-1',
  holder: 'run:x',
  scopes,
  issuedAt: '2026-01-01T00:00:00Z',
  expiresAt: '2026-01-01T00:15:00Z',
});

describe('clusterCredentialsFound', () => {
  const clean: ClusterCredentialProbe = { env: {}, serviceAccountTokenPath: '/nonexistent/token' };

  it('finds nothing in the scopes a delivery asks for', () => {
    expect(clusterCredentialsFound([lease(['sign:pipeline', 'read:registry/'])], clean)).toEqual(
      [],
    );
  });

  it.each(['read:kubernetes/prod', 'read:cluster/', 'read:', 'read:kubeconfig', 'cluster:admin'])(
    'finds a lease scope that reaches a cluster: %s',
    (scope) => {
      expect(clusterCredentialsFound([lease(['sign:pipeline', scope])], clean)).toEqual([
        `lease lease-1 grants ${scope}`,
      ]);
    },
  );

  it('does not count variables the test command never gets', () => {
    const env = { KUBECONFIG: '/home/ci/.kube/config', KUBERNETES_SERVICE_HOST: '10.0.0.1' };

    expect(clusterCredentialsFound([], { ...clean, env })).toEqual([]);
  });
});

describe('deliver and cluster credentials', () => {
  let fixture: DeliveryFixture;
  let tokenPath: string;
  beforeAll(async () => {
    fixture = await deliveryFixture();
    tokenPath = join(fixture.root, 'serviceaccount-token');
    writeFileSync(tokenPath, 'eyJhbGciOiJSUzI1NiJ9.service-account.token\n');
  });
  afterAll(() => fixture?.close());

  const noToken = (): ClusterCredentialProbe => ({
    env: { KUBECONFIG: join(fixture.root, 'kubeconfig') },
    serviceAccountTokenPath: join(fixture.root, 'no-token-here'),
  });

  /** Runs deliver expecting a refusal; returns the error and what the run left in the ledger. */
  async function refusedRun(deps: Partial<DeliveryDeps>) {
    const sourceDir = await demoAppCheckout(mkdtempSync(join(fixture.root, 'app-')));
    const error = (await deliver(
      { service: 'checkout', env: 'dev', sourceDir },
      fixture.deps(deps),
    ).catch((thrown: unknown) => thrown)) as { code: string; message: string };
    const [last] = (await fixture.ws.ledger.list({ kind: 'delivery.failed' })).slice(-1);
    const entries = await fixture.ws.ledger.list({ subject: last!.subject });
    const steps = entries
      .flatMap((entry) => evidenceOf(entry, 'delivery.step') ?? [])
      .map((step) => `${step.step}:${step.status}`);
    return { error, failed: evidenceOf(last!, 'delivery.failed')!, steps };
  }

  it('completes and reports no cluster credential when the run has none', async () => {
    const result = await deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir },
      fixture.deps({ clusterProbe: noToken() }),
    );

    expect(result.clusterCredentialsHeld).toBe(false);
    const [completed] = await fixture.ws.ledger.list({ kind: 'delivery.completed' });
    expect(evidenceOf(completed!, 'delivery.completed')?.clusterCredentialsHeld).toBe(false);
  });

  it('refuses before the tests run when a service account token is mounted', async () => {
    const proposalsBefore = await fixture.forge.listProposals();

    const { error, failed, steps } = await refusedRun({
      clusterProbe: { ...noToken(), serviceAccountTokenPath: tokenPath },
    });

    expect(error.code).toBe('CLUSTER_CREDENTIAL_HELD');
    expect(error.message).toBe(
      `the delivery would hold a cluster credential (a service account token is mounted at ${tokenPath}); run it where it has none`,
    );
    expect(failed).toMatchObject({ step: 'credentials', code: 'CLUSTER_CREDENTIAL_HELD' });
    expect(steps).toEqual([]);
    await expect(fixture.forge.listProposals()).resolves.toEqual(proposalsBefore);
  });

  it('refuses, and revokes it, when the broker grants a lease that reaches a cluster', async () => {
    const broker = widerLeases(fixture.ws.broker, 'read:kubernetes/prod');
    const proposalsBefore = await fixture.forge.listProposals();

    const { error, failed, steps } = await refusedRun({ broker, clusterProbe: noToken() });

    expect(error.code).toBe('CLUSTER_CREDENTIAL_HELD');
    expect(error.message).toMatch(/\(lease [0-9a-f-]+ grants read:kubernetes\/prod\)/);
    expect(failed).toMatchObject({ step: 'credentials', code: 'CLUSTER_CREDENTIAL_HELD' });
    expect(steps).toEqual(['test:passed']);
    await expect(fixture.forge.listProposals()).resolves.toEqual(proposalsBefore);
    const opened = await fixture.ws.ledger.list({ kind: 'broker.lease.opened' });
    const revoked = await fixture.ws.ledger.list({ kind: 'broker.lease.revoked' });
    expect(revoked.length).toBe(opened.length);
  });
});

/** The workspace's broker, as one whose policy grants every lease an extra scope. */
function widerLeases(broker: SecretBroker, extraScope: string): SecretBroker {
  return {
    openLease: (request) =>
      broker.openLease({ ...request, scopes: [...request.scopes, extraScope] }),
    revokeLease: (id) => broker.revokeLease(id),
    signer: (id, key) => broker.signer(id, key),
    publicKey: (key) => broker.publicKey(key),
    readSecret: (id, path) => broker.readSecret(id, path),
  };
}
