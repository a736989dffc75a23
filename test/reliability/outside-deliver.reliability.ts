import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultSecretBroker } from '../../src/adapters/vault/index.ts';
import { deliver } from '../../src/delivery/pipeline.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { loadPrivateKey, loadPublicKeyPem } from '../../src/embedded/secret-broker/keys.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { deliveryFixture, type DeliveryFixture } from '../delivery/helpers/setup.ts';
import { VaultEmulator } from '../emulators/vault/server.ts';
import { expectClearError } from './support/bounded.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { figures, report } from './support/row.ts';

const FAULTS: Array<[string, Fault]> = [
  ['down', { kind: 'down' }],
  ['503', { kind: 'status', status: 503 }],
  ['429', { kind: 'status', status: 429, retryAfterSeconds: 0 }],
];
// The broker's own timeout, and a delay past it: a slow Vault is an unavailable one.
const BROKER_TIMEOUT_MS = 500;
const BROKER_FAULTS: Array<[string, Fault]> = [
  ...FAULTS,
  ['500', { kind: 'status', status: 500 }],
  [
    `slow (${BROKER_TIMEOUT_MS * 4} ms, past its timeout)`,
    { kind: 'slow', delayMs: BROKER_TIMEOUT_MS * 4 },
  ],
];

describe('outside failures: deliver', () => {
  const vault = new VaultEmulator({ changeproof: ['sa-token'] });
  let fixture: DeliveryFixture;
  let proxy: FaultProxy;
  let vaultProxy: FaultProxy;
  let vaultBroker: VaultSecretBroker;
  beforeAll(async () => {
    fixture = await deliveryFixture();
    proxy = await startFaultProxy(fixture.registry.url);
    await vault.start();
    vaultProxy = await startFaultProxy(vault.url);
    vaultBroker = brokerBehind(vault, vaultProxy, fixture);
  }, 60_000);
  afterAll(async () => {
    await vaultProxy?.close();
    await vault.stop();
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
  const proposalsOpened = async () =>
    (await fixture.ws.ledger.list({ kind: 'proposal.opened' })).length;
  const failures = async () =>
    (await fixture.ws.ledger.list({ kind: 'delivery.failed' })).map((e) =>
      evidenceOf(e, 'delivery.failed')!,
    );

  it('fails closed with one clear line while the registry or the broker is out, and delivers once back', async (context) => {
    report(context, {
      area: 'Outside failures',
      tried: `deliver with the registry ${FAULTS.map(([n]) => n).join(', ')}, and with the secret broker (Vault emulator) ${BROKER_FAULTS.map(([n]) => n).join(', ')}`,
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
      expect((error as Error).message, `registry ${name}`).toMatch(/registry/i);
      expect((await failures()).length).toBe(before + 1);
      outcomes[`registry ${name}`] = (error as { code: string }).code;
    }

    // The real broker (Vault) behind faults, the registry back: no lease, no signature, no proposal.
    proxy.set({ kind: 'pass' });
    const vaultDeps = fixture.deps({ registry, broker: vaultBroker });
    for (const [name, fault] of BROKER_FAULTS) {
      await newCommit(`broker ${name}`);
      vaultProxy.set(fault);
      const before = { failed: (await failures()).length, proposals: await proposalsOpened() };
      const error = await run(vaultDeps).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `secret broker ${name}`).toBeDefined();
      expectClearError(error);
      // Refused for the broker's sake, not for anything else on the way.
      expect((error as Error).message, `secret broker ${name}`).toMatch(/vault|secret broker/i);
      expect((await failures()).length, `delivery.failed with the broker ${name}`).toBe(
        before.failed + 1,
      );
      expect(await proposalsOpened(), `proposals with the broker ${name}`).toBe(before.proposals);
      outcomes[`broker ${name}`] = (error as { code: string }).code;
    }
    vaultProxy.set({ kind: 'pass' });
    await newCommit('broker back');
    const throughVault = await run(vaultDeps);
    expect(throughVault.image).toContain('@sha256:');
    outcomes['broker back'] = 'delivered, signed through Vault';
    figures(context, { ...outcomes, 'Vault requests': JSON.stringify(vaultProxy.counts) });

    await newCommit('all back');
    const result = await run(fixture.deps({ registry }));
    expect(result.image).toContain('@sha256:');
    outcomes['all back'] = 'delivered';
    figures(context, outcomes);
  });
});

/**
 * A Vault broker reached through `proxy`. Vault's transit key is the workspace's own pipeline
 * key, as an operator would import it, so what Vault signs the workspace trusts.
 */
function brokerBehind(
  vault: VaultEmulator,
  proxy: FaultProxy,
  fixture: DeliveryFixture,
): VaultSecretBroker {
  const keysDir = fixture.ws.paths.keysDir;
  vault.keys.set('changeproof-pipeline', {
    privateKey: loadPrivateKey(keysDir, 'pipeline'),
    publicKeyPem: loadPublicKeyPem(keysDir, 'pipeline'),
  });
  const tokenPath = join(fixture.root, 'sa-token');
  writeFileSync(tokenPath, 'sa-token');
  return new VaultSecretBroker({
    address: proxy.url,
    role: 'changeproof',
    authMount: 'kubernetes',
    serviceAccountTokenPath: tokenPath,
    kvMount: 'secret',
    transitMount: 'transit',
    transitKeys: { pipeline: 'changeproof-pipeline', 'control-plane': 'changeproof-control-plane' },
    backoffMs: 1,
    timeoutMs: BROKER_TIMEOUT_MS,
    ledger: fixture.ws.ledger,
  });
}
