import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CdeventsSink } from '../../../src/adapters/cdevents/index.ts';
import { DatadogSink } from '../../../src/adapters/datadog/index.ts';
import { forwardLedger } from '../../../src/adapters/sink.ts';
import { recordEvidence } from '../../../src/domain/evidence.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { CdeventsReceiver } from '../../emulators/cdevents/server.ts';
import { DatadogEmulator } from '../../emulators/datadog/server.ts';
import { freshStore } from '../../support/stores.ts';

const datadog = new DatadogEmulator('dd-key');
const receiver = new CdeventsReceiver();
let ledger: Ledger;

beforeAll(async () => {
  await datadog.start();
  await receiver.start();
});
afterAll(async () => {
  await datadog.stop();
  await receiver.stop();
});
beforeEach(async () => {
  const fresh = await freshStore('sqlite');
  ledger = new Ledger(fresh.store);
  datadog.clearFaults();
  await recordEvidence(ledger, 'sync.completed', 'deployment:prod/payments/1', 'system:cd-engine', {
    deployment: 'prod/payments/1',
    app: 'prod/payments',
    env: 'prod',
    service: 'payments',
    configCommit: 'abc',
    change: 'CHG0000001',
    images: [{ name: 'registry.acme/payments', digest: 'sha256:bb' }],
    desiredDigest: 'sha256:d1',
    liveDigest: 'sha256:d1',
    startedAt: '2025-03-01T10:00:00Z',
    finishedAt: '2025-03-01T10:01:00Z',
    initiator: 'system:cd-engine',
    health: 'Healthy',
  });
  await recordEvidence(ledger, 'drift.detected', 'app:prod/payments', 'system:cd-engine', {
    app: 'prod/payments',
    object: 'Deployment/payments/payments',
    fields: ['spec.replicas'],
    diff: '-2 +5',
    fieldManager: 'kubectl-edit',
    desiredDigest: 'sha256:d1',
    action: 'reverted',
  });
  await recordEvidence(ledger, 'proposal.pushed', 'proposal:1', 'bob', {
    proposal: '1',
    pusher: 'bob',
    headCommit: 'x',
    dismissedApprovals: [],
  });
  return () => fresh.dispose();
});

describe('Datadog sink', () => {
  it('sends a deployment marker on sync and a warning on drift, and DORA gauges as series', async () => {
    const sink = new DatadogSink({
      site: 'datadoghq.com',
      apiUrl: datadog.url,
      apiKey: 'dd-key',
      backoffMs: 1,
    });
    const before = datadog.events.length;
    const { positions, failures } = await forwardLedger(ledger, [sink], {});

    expect(failures).toEqual([]);
    expect(positions.datadog).toBe(3);
    const events = datadog.events.slice(before);
    expect(events.map((e) => [e.title, e.alert_type])).toEqual([
      ['Deployed payments to prod', 'success'],
      ['Drift on prod/payments', 'warning'],
    ]);
    expect(events[0]?.tags).toEqual(
      expect.arrayContaining(['env:prod', 'service:payments', 'event_type:deployment']),
    );

    await sink.publishDora(
      'prod',
      { deploymentsPerDay: 3.5, leadTimeSeconds: 5400, changeFailureRate: 0.1 },
      new Date('2025-03-02T00:00:00Z'),
    );
    expect(datadog.series.map((s) => s.metric)).toEqual([
      'changeproof.dora.deployment_frequency',
      'changeproof.dora.lead_time_seconds',
      'changeproof.dora.change_failure_rate',
    ]);
    expect(datadog.series[0]).toMatchObject({
      type: 3,
      points: [{ timestamp: 1740873600, value: 3.5 }],
      tags: ['env:prod'],
    });
  });

  it('sends an error event for a failed sync, tagged with its application', async () => {
    await recordEvidence(ledger, 'sync.failed', 'deployment:prod/payments/2', 'system:cd-engine', {
      deployment: 'prod/payments/2',
      app: 'prod/payments',
      configCommit: 'def',
      reason: 'not healthy within 120s: CrashLoopBackOff',
      rolledBackTo: 'prod/payments/1',
    });
    const sink = new DatadogSink({
      site: 'x',
      apiUrl: datadog.url,
      apiKey: 'dd-key',
      backoffMs: 1,
    });
    const before = datadog.events.length;

    const { positions } = await forwardLedger(ledger, [sink], { datadog: 3 });

    expect(positions.datadog).toBe(4);
    expect(datadog.events.slice(before)).toEqual([
      expect.objectContaining({
        title: 'Sync failed for prod/payments',
        text: 'not healthy within 120s: CrashLoopBackOff. Ledger entry 4.',
        alert_type: 'error',
        aggregation_key: 'prod/payments/2',
        tags: ['env:prod', 'service:payments', 'source:changeproof'],
      }),
    ]);
  });

  it('keeps its position at the last accepted entry when Datadog refuses, and resumes there', async () => {
    const wrongKey = new DatadogSink({
      site: 'x',
      apiUrl: datadog.url,
      apiKey: 'bad',
      backoffMs: 1,
    });
    const refused = await forwardLedger(ledger, [wrongKey], {});
    expect(refused.positions.datadog).toBeUndefined();
    expect(refused.failures[0]?.error).toMatchObject({ code: 'UPSTREAM_REJECTED' });

    const sink = new DatadogSink({
      site: 'x',
      apiUrl: datadog.url,
      apiKey: 'dd-key',
      backoffMs: 1,
    });
    datadog.fail({ status: 500 }, 10);
    const down = await forwardLedger(ledger, [sink], {});
    expect(down.failures[0]?.error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    datadog.clearFaults();
    datadog.fail({ status: 429, retryAfter: '0' });
    expect((await forwardLedger(ledger, [sink], down.positions)).positions.datadog).toBe(3);
  });
});

describe('CDEvents sink', () => {
  it.each(['binary', 'structured'] as const)(
    'sends service.deployed and incident.detected in %s mode',
    async (mode) => {
      const sink = new CdeventsSink({
        url: `${receiver.url}/events`,
        mode,
        source: '/changeproof/acme',
        backoffMs: 1,
      });
      const before = receiver.received.length;
      await forwardLedger(ledger, [sink], {});

      const events = receiver.received.slice(before);
      expect(events.map((e) => [e.mode, e.type])).toEqual([
        [mode, 'dev.cdevents.service.deployed.0.2.0'],
        [mode, 'dev.cdevents.incident.detected.0.2.0'],
      ]);
      expect(events[0]?.data).toMatchObject({
        context: { version: '0.4.1', source: '/changeproof/acme' },
        subject: {
          id: 'prod/payments/1',
          content: {
            environment: { id: 'prod' },
            artifactId: 'pkg:oci/payments@sha256:bb?repository_url=registry.acme%2Fpayments',
          },
        },
      });
      const entries = await ledger.list();
      expect(events[0]?.id).toBe(entries[0]?.hash);
    },
  );
});
