import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { recordEvidence } from '../../../src/domain/evidence.ts';
import { createLogger } from '../../../src/log.ts';
import { startControlPlane, type ControlPlane } from '../../../src/server/control-plane.ts';
import { openWorkspace, type WorkspaceContext } from '../../../src/workspace/context.ts';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { DatadogEmulator } from '../../emulators/datadog/server.ts';

/*
 * The control plane with the Datadog sink publishes the DORA keys of each production environment
 * as gauges: once at start-up, and again after every production deployment it forwards.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-dora-gauges-'));
const datadog = new DatadogEmulator('dd-key');
let ws: WorkspaceContext;
let plane: ControlPlane;

function recordSync(env: string, n: number, finishedAt: Date) {
  const app = `${env}/checkout`;
  return recordEvidence(ws.ledger, 'sync.completed', `deployment:${app}/${n}`, 'system:cd-engine', {
    deployment: `${app}/${n}`,
    app,
    env,
    service: 'checkout',
    configCommit: `${n}`.repeat(40).slice(0, 40),
    images: [{ name: 'registry.acme/checkout', digest: `sha256:${'a'.repeat(64)}` }],
    desiredDigest: 'sha256:d1',
    liveDigest: 'sha256:d1',
    startedAt: new Date(finishedAt.getTime() - 60_000).toISOString(),
    finishedAt: finishedAt.toISOString(),
    initiator: 'system:cd-engine',
    health: 'Healthy',
  });
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const gauge = (metric: string, value: number) =>
  datadog.series.find(
    (s) =>
      s.metric === `changeproof.dora.${metric}` &&
      (s.points as { value: number }[])[0]?.value === value,
  );

beforeAll(async () => {
  const dir = join(root, 'ws');
  await initWorkspace({ dir, name: 'dora' });
  await datadog.start();
  const configFile = join(dir, 'changeproof.yaml');
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  document.set('adapters', { sinks: ['datadog'], datadog: { apiUrl: datadog.url } });
  writeFileSync(configFile, document.toString());
  ws = await openWorkspace(dir, { env: { DD_API_KEY: 'dd-key' } });

  await recordSync('prod', 1, new Date(Date.now() - 86_400_000));
  await recordSync('dev', 1, new Date(Date.now() - 86_400_000));
  plane = await startControlPlane(ws, {
    logger: createLogger({ level: 'silent' }),
    port: 0,
    checkpointIntervalMs: 0,
    services: 'api',
    sinkIntervalMs: 50,
  });
}, 60_000);

afterAll(async () => {
  await plane?.close();
  await ws?.close();
  await datadog.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('DORA gauges in Datadog', () => {
  it('publishes the production figures at start-up, tagged with the environment', async () => {
    const frequency = await until(
      () => gauge('deployment_frequency', 1 / 30),
      'the deployment frequency gauge',
    );
    expect(frequency).toMatchObject({ type: 3, tags: ['env:prod'] });
    expect(gauge('change_failure_rate', 0)).toMatchObject({ tags: ['env:prod'] });
    // Only production environments are published; no source commit time means no lead time.
    expect(datadog.series.every((s) => (s.tags as string[]).includes('env:prod'))).toBe(true);
    expect(datadog.series.some((s) => s.metric === 'changeproof.dora.lead_time_seconds')).toBe(
      false,
    );
  });

  it('publishes again after a production deployment, counting it', async () => {
    await until(() => gauge('deployment_frequency', 1 / 30), 'the first publication');
    expect(gauge('deployment_frequency', 2 / 30)).toBeUndefined();

    await recordSync('prod', 2, new Date());

    const frequency = await until(
      () => gauge('deployment_frequency', 2 / 30),
      'the gauge after the deployment',
    );
    expect(frequency).toMatchObject({ tags: ['env:prod'] });
  });
});
