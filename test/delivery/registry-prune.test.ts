import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordEvidence } from '../../src/domain/evidence.ts';
import {
  openRegistryStorage,
  startRegistry,
  type RunningRegistry,
} from '../../src/embedded/registry/index.ts';
import { bytesBlob, jsonBlob, artifactOf } from '../../src/supply-chain/image/artifact.ts';
import { planPrune } from '../../src/supply-chain/lifecycle/prune-policy.ts';
import { pruneRegistry } from '../../src/supply-chain/lifecycle/prune.ts';
import type { StoredManifest } from '../../src/embedded/registry/maintenance.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { MediaType, type OciArtifact } from '../../src/supply-chain/oci/types.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { runCli } from '../support/cli.ts';

const day = 86_400_000;
const now = new Date('2025-06-01T00:00:00Z');
const policy = { maxAgeMs: 90 * day, keep: 2, untaggedGraceMs: 3_600_000 };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function stored(n: number, daysAgo: number, tags: string[], extra: Partial<StoredManifest> = {}) {
  return {
    repository: 'checkout',
    digest: digest(n),
    mediaType: MediaType.imageManifest,
    size: 100,
    pushedAt: new Date(now.getTime() - daysAgo * day).toISOString(),
    tags,
    ...extra,
  };
}

describe('planPrune', () => {
  const actions = (decisions: ReturnType<typeof planPrune>) =>
    Object.fromEntries(decisions.map((d) => [d.digest, d.action]));

  it('expires old tagged images beyond the newest ones, and untagged ones after the grace', () => {
    const manifests = [
      stored(1, 400, ['a']),
      stored(2, 200, ['b']),
      stored(3, 100, ['c']),
      stored(4, 5, ['d']),
      stored(5, 10, []),
      stored(6, 0.01, []),
    ];

    expect(actions(planPrune(manifests, [], { ...policy, keep: 1 }, now))).toEqual({
      [digest(1)]: 'delete',
      [digest(2)]: 'delete',
      [digest(3)]: 'delete',
      [digest(4)]: 'keep',
      [digest(5)]: 'delete',
      [digest(6)]: 'keep',
    });
  });

  it('never expires an image a production deployment pins, however old or untagged', () => {
    const manifests = [stored(1, 900, ['old']), stored(2, 900, [])];
    const pinned = [
      { digest: digest(1), deployment: 'deployment:prod/checkout/1', at: '2024-01-01T00:00:00Z' },
      { digest: digest(2), deployment: 'deployment:prod/checkout/2', at: '2024-02-01T00:00:00Z' },
    ];

    const decisions = planPrune(manifests, pinned, { ...policy, keep: 0 }, now);

    expect(decisions.map((d) => d.action)).toEqual(['keep', 'keep']);
    expect(decisions[0]!.reason).toBe(
      'production deployment deployment:prod/checkout/1 at 2024-01-01T00:00:00Z',
    );
  });

  it('lets signatures, attestations and referrers follow their image', () => {
    const hex = (n: number) => digest(n).slice(7);
    const manifests = [
      stored(1, 400, ['old']),
      stored(2, 1, ['new']),
      stored(10, 400, [`sha256-${hex(1)}.sig`, `sha256-${hex(1)}.att`]),
      stored(11, 1, [`sha256-${hex(2)}.sig`]),
      stored(12, 400, [], { subject: digest(1) }),
      stored(13, 1, [], { subject: digest(2) }),
      stored(14, 1, [`sha256-${hex(99)}`]),
    ];

    expect(actions(planPrune(manifests, [], { ...policy, keep: 1 }, now))).toEqual({
      [digest(1)]: 'delete',
      [digest(2)]: 'keep',
      [digest(10)]: 'delete',
      [digest(11)]: 'keep',
      [digest(12)]: 'delete',
      [digest(13)]: 'keep',
      [digest(14)]: 'delete',
    });
  });
});

describe('pruneRegistry on the embedded registry', () => {
  let root: string;
  let ws: WorkspaceContext;
  let registry: RunningRegistry;
  let client: RegistryClient;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'changeproof-prune-'));
    await initWorkspace({ dir: root, name: 'prune-test' });
    ws = await openWorkspace(root);
    registry = await startRegistry({ dataDir: ws.paths.registryDir });
    client = new RegistryClient({ registry: registry.host, insecure: true });
  });
  afterEach(async () => {
    await registry.close();
    await ws.close();
    rmSync(root, { recursive: true, force: true });
  });

  function image(seed: string): OciArtifact {
    const layer = bytesBlob(MediaType.layerTar, Buffer.from(`layer ${seed}`));
    const config = jsonBlob(MediaType.imageConfig, {
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

  it('deletes expired images and their blobs, keeping the one production runs', async () => {
    const deployed = image('deployed');
    const stale = image('stale');
    await client.pushArtifact('checkout', deployed, 'a'.repeat(40));
    await client.pushArtifact('checkout', stale);
    await recordEvidence(ws.ledger, 'sync.completed', 'deployment:prod/checkout/1', 'system:cd', {
      deployment: 'deployment:prod/checkout/1',
      app: 'prod/checkout',
      env: 'prod',
      service: 'checkout',
      configCommit: 'c'.repeat(40),
      images: [{ name: `${registry.host}/checkout`, digest: deployed.manifestDigest }],
      desiredDigest: digest(7),
      liveDigest: digest(7),
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
      initiator: 'system:cd',
      health: 'Healthy',
    });
    const storage = openRegistryStorage(ws.paths.registryDir);
    // Everything is past every age limit, so only the production pin keeps an image.
    const later = new Date(Date.now() + 400 * day);
    const strict = { maxAgeMs: day, keep: 0, untaggedGraceMs: 0 };

    const dry = await pruneRegistry({
      storage,
      ledger: ws.ledger,
      config: ws.config,
      policy: strict,
      dryRun: true,
      now: later,
    });
    expect(dry).toMatchObject({ deleted: 1, kept: 1, protectedImages: 1 });
    expect(storage.listManifests('checkout')).toHaveLength(2);

    const result = await pruneRegistry({
      storage,
      ledger: ws.ledger,
      config: ws.config,
      policy: strict,
      dryRun: false,
      now: later,
    });

    expect(result).toMatchObject({ deleted: 1, kept: 1 });
    expect(result.freedBytes).toBeGreaterThan(0);
    expect(storage.listManifests('checkout').map((m) => m.digest)).toEqual([
      deployed.manifestDigest,
    ]);
    await expect(client.getManifest('checkout', stale.manifestDigest)).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
    await expect(client.getManifest('checkout', 'a'.repeat(40))).resolves.toMatchObject({
      digest: deployed.manifestDigest,
    });
    const [entry] = await ws.ledger.list({ kind: 'registry.pruned' });
    expect(entry?.payload).toMatchObject({
      deleted: [{ digest: stale.manifestDigest, reason: 'untagged' }],
    });
  });

  it('no longer protects a production image once its deployment is older than the evidence retention', async () => {
    const deployed = image('deployed');
    await client.pushArtifact('checkout', deployed, 'b'.repeat(40));
    await recordEvidence(ws.ledger, 'sync.completed', 'deployment:prod/checkout/1', 'system:cd', {
      deployment: 'deployment:prod/checkout/1',
      app: 'prod/checkout',
      env: 'prod',
      service: 'checkout',
      configCommit: 'c'.repeat(40),
      images: [{ name: `${registry.host}/checkout`, digest: deployed.manifestDigest }],
      desiredDigest: digest(7),
      liveDigest: digest(7),
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
      initiator: 'system:cd',
      health: 'Healthy',
    });
    const afterRetention = new Date(Date.now() + 2556 * day);

    const result = await pruneRegistry({
      storage: openRegistryStorage(ws.paths.registryDir),
      ledger: ws.ledger,
      config: ws.config,
      policy: { maxAgeMs: day, keep: 0, untaggedGraceMs: 0 },
      dryRun: true,
      now: afterRetention,
    });

    expect(result).toMatchObject({ deleted: 1, protectedImages: 0 });
  });

  it('prints the plan of a dry run from the command line', async () => {
    await client.pushArtifact('checkout', image('untagged'));

    const result = runCli([
      '--workspace',
      root,
      'registry',
      'prune',
      '--dry-run',
      '--untagged-grace',
      '0s',
    ]);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/would delete\s+checkout\s+sha256:/);
    expect(result.stdout).toContain(
      'would delete 1, kept 0 (0 image(s) protected by production deployments)',
    );
    expect(openRegistryStorage(ws.paths.registryDir).listManifests('checkout')).toHaveLength(1);
  });
});
