import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { defaultService, type ServiceConfig } from '../config/schema.ts';
import type { Lease } from '../domain/secret-broker.ts';
import { isChangeproofError, messageOf } from '../errors.ts';
import { ConfigCheckout } from '../gitops/config-checkout.ts';
import { parseImageReference } from '../supply-chain/oci/reference.ts';
import { generateSbom } from '../supply-chain/sbom/cyclonedx.ts';
import { bundledAdvisoriesDir, defaultBuilderId } from './defaults.ts';
import { DeliveryError, DeliveryStepError } from './errors.ts';
import { silentProgress } from './progress.ts';
import { isLoopbackHost, registryClientFor } from './registry-access.ts';
import { DeliveryRun } from './run.ts';
import { assertDeliverable, inspectSource, type SourceState } from './source.ts';
import { loadPrebuiltImage, runBuildStep, type DeliveredImage } from './steps/build.ts';
import { runProposeStep } from './steps/propose.ts';
import { runAttestStep, runPushStep, runSignStep } from './steps/publish.ts';
import { runScanStep } from './steps/scan.ts';
import { runTestStep } from './steps/test.ts';
import type { DeliverRequest, DeliveryDeps, DeliveryResult } from './types.ts';

/** Every credential a run holds: signing with the pipeline key and reading registry secrets. */
const leaseScopes = ['sign:pipeline', 'read:registry/'];
const leaseTtlSeconds = 900;

/**
 * `changeproof deliver`: test, build, SBOM, scan gate, push, sign, attest, propose. Each step
 * leaves a `delivery.step` entry; the run ends with `delivery.completed` or `delivery.failed`
 * naming the step and why. A failed step stops the run: nothing later is pushed, signed or
 * proposed. The run's only credential is a broker lease, revoked when it ends either way; it
 * never holds a cluster credential.
 */
export async function deliver(
  request: DeliverRequest,
  deps: DeliveryDeps,
): Promise<DeliveryResult> {
  const settings = serviceSettings(deps, request);
  const run = new DeliveryRun(
    randomUUID(),
    deps.ledger,
    deps.progress ?? silentProgress,
    deps.clock,
  );
  const source = await checkSource(run, request);
  const lease = await deps.broker.openLease({
    holder: run.actor,
    scopes: leaseScopes,
    ttlSeconds: leaseTtlSeconds,
  });
  try {
    return await runSteps(run, request, deps, settings, source, lease);
  } catch (error) {
    const step = error instanceof DeliveryStepError ? error.step : 'run';
    await recordFailure(run, request, step, error);
    throw error;
  } finally {
    await deps.broker.revokeLease(lease.id);
  }
}

function serviceSettings(deps: DeliveryDeps, request: DeliverRequest): ServiceConfig {
  if (!deps.config.environments.some((env) => env.name === request.env)) {
    const known = deps.config.environments.map((env) => env.name).join(', ');
    throw new DeliveryError(
      'ENVIRONMENT_UNKNOWN',
      `environment ${request.env} is not in changeproof.yaml; use one of ${known}`,
    );
  }
  const settings = deps.config.services[request.service] ?? defaultService;
  return withScanPolicy(settings, request);
}

const strictness = { warn: 0, 'block-critical': 1, 'block-high': 2 } as const;

/** A pipeline may ask for a stricter scan policy; loosening one takes a reviewed config change. */
function withScanPolicy(settings: ServiceConfig, request: DeliverRequest): ServiceConfig {
  const asked = request.scanPolicy;
  if (!asked || asked === settings.scan.policy) return settings;
  if (strictness[asked] < strictness[settings.scan.policy]) {
    throw new DeliveryError(
      'SCAN_POLICY_LOOSER',
      `--scan-policy ${asked} would loosen ${request.service}'s ${settings.scan.policy}; change changeproof.yaml through review instead`,
    );
  }
  return { ...settings, scan: { ...settings.scan, policy: asked } };
}

/** Inspects the source tree and opens the run's record; refusals are recorded too. */
async function checkSource(run: DeliveryRun, request: DeliverRequest): Promise<SourceState> {
  let source: SourceState | undefined;
  try {
    source = await inspectSource(request.sourceDir);
    await run.evidence('delivery.started', {
      run: run.id,
      service: request.service,
      env: request.env,
      sourceRepo: source.repository,
      sourceCommit: source.commit,
      dirty: source.changes.length > 0 || source.branch === undefined,
    });
    assertDeliverable(source, request.allowDirty === true);
    return source;
  } catch (error) {
    if (!source) {
      await run.evidence('delivery.started', {
        run: run.id,
        service: request.service,
        env: request.env,
        sourceRepo: request.sourceDir,
        sourceCommit: '',
        dirty: true,
      });
    }
    await recordFailure(run, request, 'source', error);
    throw error;
  }
}

async function recordFailure(
  run: DeliveryRun,
  request: DeliverRequest,
  step: string,
  error: unknown,
): Promise<void> {
  await run.evidence('delivery.failed', {
    run: run.id,
    service: request.service,
    env: request.env,
    step,
    reason: messageOf(error).split('\n')[0] ?? '',
    code: isChangeproofError(error) ? error.code : 'INTERNAL',
  });
}

async function runSteps(
  run: DeliveryRun,
  request: DeliverRequest,
  deps: DeliveryDeps,
  settings: ServiceConfig,
  source: SourceState,
  lease: Lease,
): Promise<DeliveryResult> {
  const startedOn = run.now();
  const clientFor = (host: string) =>
    registryClientFor(
      host === deps.registry.host ? deps.registry : { host, insecure: isLoopbackHost(host) },
      deps.broker,
      lease.id,
    );
  const clientForReference = (reference: string) =>
    clientFor(parseImageReference(reference).registry);
  const sourceInputs = {
    sourceRepo: source.repository,
    sourceCommit: source.commit,
    allowDirty: request.allowDirty === true,
    uncommittedChanges: source.changes,
  };

  // 1–2. Test and build, unless the image was built elsewhere.
  let delivered: DeliveredImage;
  if (request.image) {
    await run.skip('test', `image built elsewhere: ${request.image}`);
    await run.skip('build', `image built elsewhere: ${request.image}`, { image: request.image });
    delivered = await loadPrebuiltImage(request.image, source.commit, clientForReference);
  } else {
    if (settings.test) {
      const command = settings.test;
      await run.step('test', { command, ...sourceInputs }, () =>
        runTestStep({
          command,
          dir: source.dir,
          ...(request.junitFile ? { junitFile: request.junitFile } : {}),
          ...(deps.testOutput ? { output: deps.testOutput } : {}),
        }),
      );
    } else {
      await run.skip('test', `no test command configured for ${request.service}`);
    }
    delivered = await run.step(
      'build',
      { context: settings.build?.context ?? '.', ...sourceInputs },
      () =>
        runBuildStep({
          source,
          settings,
          allowDirty: request.allowDirty === true,
          pullClient: clientForReference,
        }),
    );
  }

  const imageName = request.service;
  const repository = `${deps.registry.host}/${imageName}`;

  // 3. SBOM of the image's packages and files.
  const sbom = await run.step('sbom', { image: `${repository}@${delivered.digest}` }, async () => {
    const generated = generateSbom({ image: delivered.artifact, imageName: repository });
    return {
      value: generated,
      outputs: { sbomDigest: generated.digest, components: generated.bom.components.length },
      detail: `${generated.bom.components.length} components`,
    };
  });

  // 4. The scan gate over the SBOM and the overlay as it would be proposed.
  const remote = request.configRepoUrl ?? deps.forge.repositoryUrl;
  const checkout = await ConfigCheckout.clone(remote, deps.config.configRepo.branch).catch(
    (error: unknown) => {
      throw new DeliveryStepError('scan', error);
    },
  );
  try {
    const advisoriesDir = request.advisoriesDir ?? bundledAdvisoriesDir;
    const scan = await run.step(
      'scan',
      {
        policy: settings.scan.policy,
        advisories: advisoriesDir,
        sarif: request.sarifFiles ?? [],
        exceptions: settings.scan.exceptions.map((exception) => exception.id),
        configRepo: remote,
        configCommit: checkout.baseCommit,
      },
      async () => {
        checkout.bumpOverlay(request.service, request.env, {
          name: imageName,
          newName: repository,
          newTag: delivered.tag,
          digest: delivered.digest,
        });
        return runScanStep({
          sbom,
          checkout,
          service: request.service,
          env: request.env,
          settings,
          advisoriesDir,
          sarifFiles: request.sarifFiles ?? [],
          sourceDir: source.dir,
          now: () => run.now(),
        });
      },
    );

    // 5–7. Push, sign, attest.
    const client = await clientFor(deps.registry.host);
    const pushed = await run.step('push', { repository, tag: delivered.tag }, () =>
      runPushStep(client, deps.registry.host, imageName, delivered),
    );
    const image = `${repository}@${pushed.digest}`;
    let keyId = '';
    const signed = await run.step('sign', { image, key: 'pipeline', lease: lease.id }, async () => {
      const signer = await deps.broker.signer(lease.id, 'pipeline');
      keyId = signer.keyId;
      return runSignStep(client, pushed, delivered, signer, run.now());
    });
    const attested = await run.step('attest', { image, lease: lease.id }, async () =>
      runAttestStep({
        client,
        image: pushed,
        signer: await deps.broker.signer(lease.id, 'pipeline'),
        sbom,
        scan,
        advisoriesUri: pathToFileURL(advisoriesDir).href,
        provenance: {
          builderId: request.builderId ?? defaultBuilderId(),
          source: {
            repository: settings.sourceRepo ?? source.repository,
            commit: source.commit,
            ...(source.branch ? { ref: `refs/heads/${source.branch}` } : {}),
          },
          service: request.service,
          environment: request.env,
          ...(delivered.baseImage ? { baseImage: delivered.baseImage } : {}),
          invocationId: run.id,
          startedOn,
          finishedOn: run.now(),
          byproducts: [
            { name: 'sbom.cdx.json', digest: sbom.digest },
            { name: 'scan.sarif', digest: scan.sarifDigest },
          ],
        },
      }),
    );

    // 8. Propose the image reference to the config repo.
    const proposed = await run.step('propose', { configRepo: remote, image }, async () =>
      runProposeStep({
        forge: deps.forge,
        checkout,
        rendered: scan.rendered,
        signer: await deps.broker.signer(lease.id, 'pipeline'),
        author: request.author ?? 'pipeline',
        now: run.now(),
        links: {
          service: request.service,
          env: request.env,
          image: pushed,
          sourceRepository: settings.sourceRepo ?? source.repository,
          sourceCommit: source.commit,
          sbomDigest: sbom.digest,
          signatureTag: signed.signatureTag,
          signatureBundle: signed.bundleDigest,
          attestationTag: attested.attestationTag,
          scanVerdict: scan.result.verdict,
          scanCounts: scan.result.counts,
          signerKeyId: keyId,
          run: run.id,
        },
      }),
    );

    const result: DeliveryResult = {
      run: run.id,
      service: request.service,
      env: request.env,
      sourceCommit: source.commit,
      image,
      tag: pushed.tag,
      digest: pushed.digest,
      sbomDigest: sbom.digest,
      scanVerdict: 'pass',
      scanCounts: scan.result.counts,
      signatureTag: signed.signatureTag,
      signatureBundle: signed.bundleDigest,
      attestationTag: attested.attestationTag,
      proposal: { id: proposed.proposal.id, branch: proposed.branch, commit: proposed.commit },
      leases: [lease.id],
      clusterCredentialsHeld: false,
    };
    await run.evidence('delivery.completed', {
      run: run.id,
      service: request.service,
      env: request.env,
      image,
      sbomDigest: sbom.digest,
      scanVerdict: 'pass',
      signatureTag: signed.signatureTag,
      attestationTag: attested.attestationTag,
      proposal: proposed.proposal.id,
      leases: [lease.id],
      clusterCredentialsHeld: false,
    });
    return result;
  } finally {
    checkout.dispose();
  }
}
