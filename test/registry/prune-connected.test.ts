import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { recordEvidence } from '../../src/domain/evidence.ts';
import { openRegistryStorage, startRegistry } from '../../src/embedded/registry/index.ts';
import { artifactOf, bytesBlob, jsonBlob } from '../../src/supply-chain/image/artifact.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { referrersFallbackTag } from '../../src/supply-chain/oci/referrers.ts';
import { MediaType, type OciArtifact } from '../../src/supply-chain/oci/types.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { runCli, startCli } from '../support/cli.ts';
import { buildReferrer, subjectOf } from './fixtures.ts';
import { hasBinary, startDockerRegistry, warnMissing } from './servers.ts';

warnMissing('docker-registry', 'docker-registry');

const longAgo = '2020-01-01T00:00:00Z';
const recent = new Date().toISOString();

/** A single-layer image whose config says it was created at `created`. */
function image(seed: string, created: string): OciArtifact {
  const layer = bytesBlob(MediaType.layerTar, Buffer.from(`layer ${seed}`));
  const config = jsonBlob(MediaType.imageConfig, {
    created,
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layer.descriptor.digest] },
  });
  return artifactOf(
    {
      schemaVersion: 2,
      mediaType: MediaType.imageManifest,
      config: config.descriptor,
      layers: [layer.descriptor],
    },
    [config, layer],
  );
}

/** Points the workspace at a connected registry, as an operator would in changeproof.yaml. */
function connectTo(configFile: string, host: string): void {
  const document = parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  document.registry = { url: `http://${host}` };
  document.adapters = { ...(document.adapters as object), registry: 'oci' };
  writeFileSync(configFile, stringify(document));
}

async function recordDelivery(ws: WorkspaceContext, reference: string): Promise<void> {
  await recordEvidence(ws.ledger, 'delivery.completed', 'run:prune-1', 'system:ci', {
    run: 'run:prune-1',
    service: 'checkout',
    env: 'dev',
    image: reference,
    sbomDigest: `sha256:${'5'.repeat(64)}`,
    scanVerdict: 'pass',
    signatureTag: 'sig',
    attestationTag: 'att',
    proposal: 'proposal:1',
    leases: [],
    clusterCredentialsHeld: false,
  });
}

async function recordProductionSync(ws: WorkspaceContext, host: string, digest: string) {
  await recordEvidence(ws.ledger, 'sync.completed', 'deployment:prod/checkout/1', 'system:cd', {
    deployment: 'deployment:prod/checkout/1',
    app: 'prod/checkout',
    env: 'prod',
    service: 'checkout',
    configCommit: 'c'.repeat(40),
    images: [{ name: `${host}/checkout`, digest }],
    desiredDigest: `sha256:${'7'.repeat(64)}`,
    liveDigest: `sha256:${'7'.repeat(64)}`,
    startedAt: recent,
    finishedAt: recent,
    initiator: 'system:cd',
    health: 'Healthy',
  });
}

const strict = ['--max-age', '1d', '--keep', '0', '--untagged-grace', '0s'];

describe.skipIf(!hasBinary('docker-registry'))('registry prune on a connected registry', () => {
  let root: string;
  let ws: WorkspaceContext;
  let registry: Awaited<ReturnType<typeof startDockerRegistry>> | undefined;
  let client: RegistryClient;

  async function setUp(deleteEnabled: boolean) {
    registry = await startDockerRegistry({ deleteEnabled });
    root = mkdtempSync(join(tmpdir(), 'changeproof-prune-connected-'));
    await initWorkspace({ dir: root, name: 'prune-connected' });
    connectTo(join(root, 'changeproof.yaml'), registry.host);
    ws = await openWorkspace(root);
    client = new RegistryClient({ registry: registry.host, insecure: true });
    return registry.host;
  }
  const prune = (...flags: string[]) =>
    runCli(['--workspace', root, 'registry', 'prune', ...strict, ...flags]);
  const tagsOf = (repository: string) => client.listTags(repository);

  beforeEach(() => {
    registry = undefined;
  });
  afterEach(async () => {
    await ws?.close();
    await registry?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('deletes an old untagged image with its signature and referrers, and keeps the production one', async () => {
    const host = await setUp(true);
    const stale = image('stale', longAgo);
    const deployed = image('deployed', longAgo);
    await client.pushArtifact('checkout', stale);
    await recordDelivery(ws, `${host}/checkout@${stale.manifestDigest}`);
    await client.pushArtifact('checkout', deployed, 'v1');
    await recordProductionSync(ws, host, deployed.manifestDigest);
    const sigTag = (digest: string) => `${referrersFallbackTag(digest)}.sig`;
    await client.pushArtifact(
      'checkout',
      image('stale-sig', longAgo),
      sigTag(stale.manifestDigest),
    );
    await client.pushArtifact(
      'checkout',
      image('kept-sig', longAgo),
      sigTag(deployed.manifestDigest),
    );
    const staleSbom = buildReferrer(subjectOf(stale), 'application/vnd.cyclonedx+json', 'sbom');
    await client.pushArtifact('checkout', staleSbom);
    const keptSbom = buildReferrer(subjectOf(deployed), 'application/vnd.cyclonedx+json', 'sbom');
    await client.pushArtifact('checkout', keptSbom);
    const before = (await tagsOf('checkout')).sort();

    const dry = prune('--dry-run');

    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would delete\s+checkout\s+sha256:/);
    expect(dry.stdout).toContain('would delete 4, kept 4 (1 image(s) protected');
    expect((await tagsOf('checkout')).sort()).toEqual(before);
    await expect(client.getManifest('checkout', stale.manifestDigest)).resolves.toBeDefined();

    const run = prune();

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('deleted 4, kept 4');
    for (const gone of [stale, staleSbom]) {
      await expect(client.getManifest('checkout', gone.manifestDigest)).rejects.toMatchObject({
        code: 'MANIFEST_UNKNOWN',
      });
    }
    expect((await tagsOf('checkout')).sort()).toEqual(
      ['v1', sigTag(deployed.manifestDigest), referrersFallbackTag(deployed.manifestDigest)].sort(),
    );
    await expect(client.getManifest('checkout', keptSbom.manifestDigest)).resolves.toBeDefined();
    const [entry] = await ws.ledger.list({ kind: 'registry.pruned' });
    expect(entry?.subject).toBe(`registry:${host}`);
    expect(entry?.payload).toMatchObject({
      protectedImages: [deployed.manifestDigest],
    });
    expect((entry?.payload as { deleted: { digest: string }[] }).deleted).toContainEqual(
      expect.objectContaining({ digest: stale.manifestDigest, reason: 'untagged' }),
    );
  });

  it('keeps a recent image: age comes from the config and the delivery time', async () => {
    const host = await setUp(true);
    const fresh = image('fresh', recent);
    await client.pushArtifact('checkout', fresh, 'v2');
    await recordDelivery(ws, `${host}/checkout@${fresh.manifestDigest}`);

    const run = prune();

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('deleted 0, kept 1');
    expect(await tagsOf('checkout')).toEqual(['v2']);
  });

  it('says in one line that a registry with deletion disabled cannot be pruned', async () => {
    const host = await setUp(false);
    const stale = image('stale', longAgo);
    await client.pushArtifact('checkout', stale, 'old');

    const run = prune();

    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`registry ${host} has deletion disabled`);
    await expect(client.getManifest('checkout', 'old')).resolves.toMatchObject({
      digest: stale.manifestDigest,
    });
    expect(await ws.ledger.list({ kind: 'registry.pruned' })).toEqual([]);
  });
});

async function cliResult(args: string[]) {
  const child = startCli(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { status, stdout, stderr };
}

describe('registry prune on the embedded registry while another process serves it', () => {
  it('goes through the distribution API instead of editing the files under the server', async () => {
    const root = mkdtempSync(join(tmpdir(), 'changeproof-prune-served-'));
    await initWorkspace({ dir: root, name: 'prune-served' });
    const ws = await openWorkspace(root);
    const registry = await startRegistry({ dataDir: ws.paths.registryDir });
    try {
      // As `changeproof up` publishes it: this test process stands for the serving one.
      mkdirSync(dirname(ws.paths.endpoints), { recursive: true });
      writeFileSync(
        ws.paths.endpoints,
        JSON.stringify({ pid: process.pid, endpoints: [{ name: 'registry', url: registry.url }] }),
      );
      const client = new RegistryClient({ registry: registry.host, insecure: true });
      const stale = image('stale', longAgo);
      await client.pushArtifact('checkout', stale);
      await recordDelivery(ws, `${registry.host}/checkout@${stale.manifestDigest}`);

      // Asynchronously: the registry answering the CLI runs in this process.
      const run = await cliResult(['--workspace', root, 'registry', 'prune', ...strict]);

      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('deleted 1, kept 0');
      expect(run.stdout).toContain('blobs go at the registry garbage collection');
      expect(openRegistryStorage(ws.paths.registryDir).listManifests('checkout')).toEqual([]);
    } finally {
      await registry.close();
      await ws.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
