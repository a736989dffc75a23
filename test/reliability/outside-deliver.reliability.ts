import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/pipeline.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import type { SecretBroker } from '../../src/domain/secret-broker.ts';
import { UpstreamError } from '../../src/errors.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { deliveryFixture, type DeliveryFixture } from '../delivery/helpers/setup.ts';
import { expectClearError } from './support/bounded.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { figures, report } from './support/row.ts';

const FAULTS: Array<[string, Fault]> = [
  ['down', { kind: 'down' }],
  ['503', { kind: 'status', status: 503 }],
  ['429', { kind: 'status', status: 429, retryAfterSeconds: 0 }],
];

describe('outside failures: deliver', () => {
  let fixture: DeliveryFixture;
  let proxy: FaultProxy;
  beforeAll(async () => {
    fixture = await deliveryFixture();
    proxy = await startFaultProxy(fixture.registry.url);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await fixture?.close();
  });

  // A new source commit per run, so each delivery is a new image and a new proposal.
  const newCommit = async (label: string) => {
    await git(
      [...identityArgs('Dev', 'dev@example.test'), 'commit', '-q', '--allow-empty', '-m', label],
      {
        cwd: fixture.appDir,
      },
    );
  };
  const run = (deps: ReturnType<DeliveryFixture['deps']>) =>
    deliver(
      { service: 'checkout', env: 'dev', sourceDir: fixture.appDir, junitFile: 'junit.xml' },
      deps,
    );
  const failures = async () =>
    (await fixture.ws.ledger.list({ kind: 'delivery.failed' })).map((e) =>
      evidenceOf(e, 'delivery.failed')!,
    );

  it('fails closed with one clear line while the registry or the broker is out, and delivers once back', async (context) => {
    report(context, {
      area: 'Outside failures',
      tried: `deliver with the registry ${FAULTS.map(([n]) => n).join(', ')}, and with the secret broker down`,
    });
    const outcomes: Record<string, string> = {};
    const registry = { host: proxy.host, insecure: true };
    for (const [name, fault] of FAULTS) {
      await newCommit(`registry ${name}`);
      proxy.set(fault);
      const before = (await failures()).length;
      const error = await run(fixture.deps({ registry })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `registry ${name}`).toBeDefined();
      expectClearError(error);
      expect((await failures()).length).toBe(before + 1);
      outcomes[`registry ${name}`] = (error as { code: string }).code;
    }

    const downBroker: SecretBroker = {
      ...fixture.ws.broker,
      publicKey: (key) => fixture.ws.broker.publicKey(key),
      openLease: async () => {
        throw new UpstreamError('secret broker', 'the secret broker is unavailable; retry later');
      },
    } as SecretBroker;
    await newCommit('broker down');
    proxy.set({ kind: 'pass' });
    const brokerError = await run(fixture.deps({ registry, broker: downBroker })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expectClearError(brokerError);
    outcomes['broker down'] = (brokerError as { code: string }).code;

    await newCommit('all back');
    const result = await run(fixture.deps({ registry }));
    expect(result.image).toContain('@sha256:');
    outcomes['all back'] = 'delivered';
    figures(context, outcomes);
  });
});
