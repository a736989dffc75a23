import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/adapters/kubernetes/config.ts';
import { configSchema, type EnvironmentConfig } from '../../src/config/schema.ts';
import { startRegistry, type RunningRegistry } from '../../src/embedded/registry/index.ts';
import type { ImagePolicy } from '../../src/embedded/sandbox/index.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { writeFiles } from '../../src/gitops/seed.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { startCdEngine, type CdEngine, type CdEngineOptions } from '../../src/reconcile/engine.ts';
import { defaultRequiredPredicates } from '../../src/reconcile/image-verification.ts';
import { createAttestations } from '../../src/supply-chain/attest/index.ts';
import {
  CycloneDxPredicateType,
  SlsaProvenanceV1,
} from '../../src/supply-chain/attest/predicates.ts';
import { artifactOf, bytesBlob, jsonBlob } from '../../src/supply-chain/image/artifact.ts';
import { RegistryClient } from '../../src/supply-chain/oci/client.ts';
import { MediaType } from '../../src/supply-chain/oci/types.ts';
import { createClassicSignature } from '../../src/supply-chain/sign/index.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/helpers.ts';
import { testSigner } from '../support/signer.ts';
import { freshStore } from '../support/stores.ts';

/** Everything a CD-plane test runs against: registry, sandbox, config repo, ledger. */
export interface CdWorld {
  dir: string;
  registry: RunningRegistry;
  sandbox: TestSandbox;
  pipeline: Signer;
  controlPlane: Signer;
  ledger: Ledger;
  /** The bare config repo and a clone to commit in. */
  bare: string;
  work: string;
  /** Pushes a tiny image; `sign`/`attest` decide how trusted it is. Returns `host/repo@digest`. */
  pushImage(seed: string, options?: { sign?: boolean; attest?: boolean }): Promise<string>;
  /** Writes files into the clone, commits and pushes to main; returns the commit. */
  commit(files: Record<string, string>, remove?: string[]): Promise<string>;
  startEngine(overrides?: Partial<CdEngineOptions>): Promise<CdEngine>;
  environment(
    name: string,
    governance?: Partial<EnvironmentConfig['governance']>,
  ): EnvironmentConfig;
  close(): Promise<void>;
}

export async function startCdWorld(
  options: { imagePolicy?: ImagePolicy; sandboxPort?: number } = {},
): Promise<CdWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-'));
  const registry = await startRegistry({ dataDir: join(dir, 'registry') });
  const sandbox = await startTestSandbox(
    { imagePolicy: options.imagePolicy, port: options.sandboxPort },
    join(dir, 'sandbox'),
  );
  const { store, dispose } = await freshStore('sqlite');
  const ledger = new Ledger(store);
  const pipeline = testSigner();
  const controlPlane = testSigner();
  const bare = join(dir, 'config-repo.git');
  const work = join(dir, 'work');
  await git(['init', '--bare', '--initial-branch=main', bare], { cwd: dir });
  await git(['clone', bare, work], { cwd: dir });
  const engines: CdEngine[] = [];

  const world: CdWorld = {
    dir,
    registry,
    sandbox,
    pipeline,
    controlPlane,
    ledger,
    bare,
    work,
    pushImage: (seed, flags = {}) => pushTestImage(registry.host, pipeline, seed, flags),
    async commit(files, remove = []) {
      writeFiles(work, files);
      for (const path of remove) rmSync(join(work, path), { recursive: true, force: true });
      await git(['add', '-A'], { cwd: work });
      await git([...identityArgs('Dev', 'dev@example.test'), 'commit', '-qm', 'change'], {
        cwd: work,
      });
      await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
      return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
    },
    environment: (name, governance = {}) => environmentOf(name, governance),
    async startEngine(overrides = {}) {
      const engine = await startCdEngine({
        ledger,
        environments: [environmentOf('dev', { syncTimeout: '5s' })],
        configRepo: bare,
        branch: 'main',
        clusters: new Map([['dev', loadKubeconfig(sandbox.kubeconfig)]]),
        trust: {
          publicKeys: [pipeline.publicKeyPem],
          requiredPredicates: defaultRequiredPredicates,
        },
        controlPlaneSigner: async () => ({ signer: controlPlane, release: async () => undefined }),
        cacheDir: join(dir, 'cache'),
        pollIntervalMs: 100,
        scheduleVerification: false,
        selfHeal: { firstDelayMs: 50, maxDelayMs: 1000, flappingAfter: 3, windowMs: 60_000 },
        ...overrides,
      });
      engines.push(engine);
      return engine;
    },
    async close() {
      for (const engine of engines) await engine.close();
      await sandbox.stop().catch(() => undefined);
      await registry.close();
      await dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

function environmentOf(
  name: string,
  governance: Partial<EnvironmentConfig['governance']>,
): EnvironmentConfig {
  const config = configSchema.parse({
    apiVersion: 'changeproof.dev/v1alpha1',
    kind: 'Workspace',
    name: 'test',
    environments: [{ name, order: 0, cluster: name, governance }],
    clusters: { [name]: { type: 'sandbox' } },
  });
  return config.environments[0]!;
}

/** Pushes a tiny image to a registry, signed and attested by `signer` unless told otherwise. */
export async function pushTestImage(
  registryHost: string,
  signer: Signer,
  seed: string,
  flags: { sign?: boolean; attest?: boolean },
): Promise<string> {
  const client = new RegistryClient({ registry: registryHost, insecure: true });
  const repository = 'shop/checkout';
  const layer = bytesBlob(MediaType.layerTar, Buffer.from(`layer ${seed}`));
  const config = jsonBlob(MediaType.imageConfig, {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layer.descriptor.digest] },
  });
  const image = artifactOf(
    {
      schemaVersion: 2,
      mediaType: MediaType.imageManifest,
      config: config.descriptor,
      layers: [layer.descriptor],
    },
    [config, layer],
  );
  await client.pushArtifact(repository, image, seed);
  const ref = { repository: `${registryHost}/${repository}`, digest: image.manifestDigest };
  if (flags.sign !== false) {
    const signature = await createClassicSignature({ image: ref, signer });
    await client.pushArtifact(repository, signature.artifact, signature.tag);
  }
  if (flags.attest !== false) {
    const attestations = await createAttestations(
      ref,
      [
        { predicateType: SlsaProvenanceV1, predicate: { buildDefinition: { buildType: 'test' } } },
        {
          predicateType: CycloneDxPredicateType,
          predicate: { bomFormat: 'CycloneDX', specVersion: '1.6' },
        },
      ],
      signer,
    );
    await client.pushArtifact(repository, attestations.artifact, attestations.tag);
  }
  return `${ref.repository}@${ref.digest}`;
}

/** A service's base and one overlay pinning `image`, in the config repo's layout. */
export function appFiles(
  image: string,
  options: {
    service?: string;
    env?: string;
    extra?: Record<string, string>;
    replicas?: number;
  } = {},
): Record<string, string> {
  const service = options.service ?? 'checkout';
  const env = options.env ?? 'dev';
  const [name, digest] = image.split('@');
  const base = `apps/${service}/base`;
  return {
    [`${base}/kustomization.yaml`]: 'resources:\n  - deployment.yaml\n  - service.yaml\n',
    [`${base}/deployment.yaml`]: [
      'apiVersion: apps/v1',
      'kind: Deployment',
      `metadata: { name: ${service} }`,
      'spec:',
      `  replicas: ${options.replicas ?? 2}`,
      `  selector: { matchLabels: { app: ${service} } }`,
      '  template:',
      `    metadata: { labels: { app: ${service} } }`,
      '    spec:',
      `      containers: [{ name: web, image: ${service} }]`,
      '',
    ].join('\n'),
    [`${base}/service.yaml`]: [
      'apiVersion: v1',
      'kind: Service',
      `metadata: { name: ${service} }`,
      `spec: { selector: { app: ${service} }, ports: [{ port: 80, targetPort: 8080 }] }`,
      '',
    ].join('\n'),
    [`apps/${service}/overlays/${env}/kustomization.yaml`]: [
      `namespace: ${service}-${env}`,
      'resources:',
      '  - ../../base',
      '  - namespace.yaml',
      'images:',
      `  - name: ${service}`,
      `    newName: ${name}`,
      ...(digest ? [`    digest: ${digest}`] : []),
      '',
    ].join('\n'),
    [`apps/${service}/overlays/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${service}-${env} }\n`,
    ...options.extra,
  };
}

export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
