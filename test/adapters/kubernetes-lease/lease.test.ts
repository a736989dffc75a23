import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseElector } from '../../../src/adapters/kubernetes-lease/index.ts';
import { KubeClient } from '../../../src/adapters/kubernetes/client.ts';
import { loadKubeconfig } from '../../../src/adapters/kubernetes/config.ts';
import { removeDir, startTestSandbox, type TestSandbox } from '../../sandbox/helpers.ts';

describe('LeaseElector', () => {
  let sandbox: TestSandbox;
  let client: KubeClient;
  const electors: LeaseElector[] = [];

  beforeAll(async () => {
    sandbox = await startTestSandbox();
    client = new KubeClient(loadKubeconfig(sandbox.kubeconfig));
    await client.apply(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'changeproof' } },
      { fieldManager: 'test' },
    );
  });
  afterAll(async () => {
    for (const elector of electors) await elector.stop({ release: false });
    client?.close();
    await sandbox?.stop();
    if (sandbox) removeDir(sandbox.dir);
  });

  /*
   * The take-over test runs on a 2 s lease renewed every 100 ms: the holder has twenty chances to
   * renew per lease, so a loaded machine (event-loop stalls of a second or more) does not make it
   * lose the Lease, while the test still finishes in a few seconds.
   */
  const leaseSeconds = 2;

  function elector(identity: string, events: string[], name = 'reconciler', seconds = 1) {
    const made = new LeaseElector({
      client,
      name,
      namespace: 'changeproof',
      identity,
      leaseDurationSeconds: seconds,
      retryPeriodMs: 100,
      onStartedLeading: () => void events.push(`${identity} leads`),
      onStoppedLeading: () => void events.push(`${identity} stops`),
    });
    electors.push(made);
    return made;
  }

  async function lease(name: string) {
    return client.get({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name,
      namespace: 'changeproof',
    }) as Promise<{ spec: Record<string, unknown> } | undefined>;
  }

  it('lets one of two replicas lead, and the other take over when the leader stops renewing', async () => {
    const events: string[] = [];
    const a = elector('pod-a', events, 'reconciler', leaseSeconds);
    const b = elector('pod-b', events, 'reconciler', leaseSeconds);
    const mostLeadersAtOnce = sampleLeaderCount([a, b]);
    a.start();
    await until(() => a.isLeader);
    b.start();
    await sleep(leaseSeconds * 1000 + 500);

    // Past one lease duration, the holder has renewed throughout and the other waited.
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect((await lease('reconciler'))?.spec).toMatchObject({
      holderIdentity: 'pod-a',
      leaseDurationSeconds: leaseSeconds,
      leaseTransitions: 0,
    });

    // pod-a dies without releasing: pod-b waits out the lease (its own clock), then takes it.
    await a.stop({ release: false });
    const stoppedAt = Date.now();
    await until(() => b.isLeader, 15_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(leaseSeconds * 1000 * 0.7);
    expect((await lease('reconciler'))?.spec).toMatchObject({
      holderIdentity: 'pod-b',
      leaseTransitions: 1,
    });
    expect(events).toEqual(['pod-a leads', 'pod-a stops', 'pod-b leads']);
    expect(mostLeadersAtOnce()).toBe(1);
  });

  it('never lets two replicas racing for a free Lease both win (resourceVersion conflicts)', async () => {
    const racers = ['r1', 'r2', 'r3', 'r4'].map((id) => elector(id, [], 'race'));
    const won = await Promise.all(racers.map((racer) => racer.step()));
    expect(won.filter(Boolean)).toHaveLength(1);
    const again = await Promise.all(racers.map((racer) => racer.step()));
    expect(again).toEqual(won);
  });

  it('hands over at once when the leader releases the Lease on shutdown', async () => {
    const events: string[] = [];
    const first = elector('pod-c', events, 'handover');
    const second = elector('pod-d', events, 'handover');
    await first.step();
    await second.step();
    await first.stop();
    expect(await second.step()).toBe(true);
    expect(events).toEqual(['pod-c leads', 'pod-c stops', 'pod-d leads']);
  });
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Watches the electors every 20 ms for the rest of the test; the returned function stops watching
 * and gives the most replicas that believed they led at the same moment.
 */
function sampleLeaderCount(electors: LeaseElector[]): () => number {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, electors.filter((one) => one.isLeader).length);
  }, 20);
  timer.unref();
  return () => {
    clearInterval(timer);
    return most;
  };
}
