import { pathToFileURL } from 'node:url';
import type { Sbom } from '../supply-chain/sbom/cyclonedx.ts';
import { generateSbom } from '../supply-chain/sbom/cyclonedx.ts';
import { leaseIdOf, type RunContext } from './context.ts';
import { bundledAdvisoriesDir, defaultBuilderId } from './defaults.ts';
import { loadPrebuiltImage, runBuildStep, type DeliveredImage } from './steps/build.ts';
import { runProposeStep } from './steps/propose.ts';
import { runAttestStep, runPushStep, runSignStep, type PushedImage } from './steps/publish.ts';
import { runScanStep, type ScanOutcome } from './steps/scan.ts';
import { runTestStep } from './steps/test.ts';

/*
 * The stages of a delivery run, one per step (two for test and build): each names the step's
 * inputs for the ledger and calls the step. pipeline.ts runs them in order.
 */

/** Step 1: the service's tests, unless the image was built elsewhere. */
export async function testSource(context: RunContext): Promise<void> {
  const { run, request, settings, source } = context;
  if (request.image) return run.skip('test', `image built elsewhere: ${request.image}`);
  const command = settings.test;
  if (!command) return run.skip('test', `no test command configured for ${request.service}`);
  await run.step('test', { command, ...sourceInputs(context) }, () =>
    runTestStep({
      command,
      dir: source.dir,
      ...(request.junitFile ? { junitFile: request.junitFile } : {}),
      ...(context.deps.testOutput ? { output: context.deps.testOutput } : {}),
    }),
  );
}

/** Step 2: the image build; or the image built elsewhere, pulled by digest. */
export async function buildOrLoadImage(context: RunContext): Promise<DeliveredImage> {
  const { run, request, settings, source } = context;
  if (request.image) {
    await run.skip('build', `image built elsewhere: ${request.image}`, { image: request.image });
    return loadPrebuiltImage(request.image, source.commit, context.clientForReference);
  }
  const inputs = { context: settings.build?.context ?? '.', ...sourceInputs(context) };
  return run.step('build', inputs, () =>
    runBuildStep({
      source,
      settings,
      allowDirty: request.allowDirty === true,
      pullClient: context.clientForReference,
    }),
  );
}

function sourceInputs({ source, request }: RunContext) {
  return {
    sourceRepo: source.repository,
    sourceCommit: source.commit,
    allowDirty: request.allowDirty === true,
    uncommittedChanges: source.changes,
  };
}

/** Step 3: the CycloneDX SBOM of the image's packages and files. */
export function describeImage(context: RunContext, image: DeliveredImage): Promise<Sbom> {
  return context.run.step('sbom', { image: `${context.repository}@${image.digest}` }, async () => {
    const sbom = generateSbom({ image: image.artifact, imageName: context.repository });
    return {
      value: sbom,
      outputs: { sbomDigest: sbom.digest, components: sbom.bom.components.length },
      detail: `${sbom.bom.components.length} components`,
    };
  });
}

/** Step 4: the scan gate, over the SBOM and the overlay as the proposal will change it. */
export function scanImage(
  context: RunContext,
  image: DeliveredImage,
  sbom: Sbom,
): Promise<ScanOutcome> {
  const { run, request, settings } = context;
  const advisoriesDir = request.advisoriesDir ?? bundledAdvisoriesDir;
  const inputs = {
    policy: settings.scan.policy,
    advisories: advisoriesDir,
    sarif: request.sarifFiles ?? [],
    exceptions: settings.scan.exceptions.map((exception) => exception.id),
    configRepo: context.configRemote,
  };
  return run.step('scan', inputs, async () => {
    const checkout = await context.checkout;
    checkout.bumpOverlay(request.service, request.env, {
      name: request.service,
      newName: context.repository,
      newTag: image.tag,
      digest: image.digest,
    });
    const outcome = await runScanStep({
      sbom,
      checkout,
      service: request.service,
      env: request.env,
      settings,
      advisoriesDir,
      sarifFiles: request.sarifFiles ?? [],
      sourceDir: context.source.dir,
      now: () => run.now(),
    });
    return { ...outcome, outputs: { ...outcome.outputs, configCommit: checkout.baseCommit } };
  });
}

/** Step 5: push the image under its commit tag. */
export function pushImage(context: RunContext, image: DeliveredImage): Promise<PushedImage> {
  const inputs = { repository: context.repository, tag: image.tag };
  return context.run.step('push', inputs, async () =>
    runPushStep(
      await context.targetClient(),
      context.deps.registry.host,
      context.request.service,
      image,
    ),
  );
}

/** Step 6: sign with the pipeline key, which stays in the broker. */
export function signImage(context: RunContext, image: DeliveredImage, pushed: PushedImage) {
  const { run, deps } = context;
  const lease = leaseIdOf(context);
  const inputs = {
    image: `${pushed.repository}@${pushed.digest}`,
    key: 'pipeline',
    lease: lease,
  };
  return run.step('sign', inputs, async () => {
    const signer = await deps.broker.signer(lease, 'pipeline');
    const signed = await runSignStep(
      await context.targetClient(),
      pushed,
      image,
      signer,
      run.now(),
    );
    return { ...signed, value: { ...signed.value, keyId: signer.keyId } };
  });
}

/** Step 7: SLSA provenance, the SBOM and the scan result as signed attestations. */
export function attestImage(
  context: RunContext,
  image: DeliveredImage,
  pushed: PushedImage,
  sbom: Sbom,
  scan: ScanOutcome,
) {
  const { run, request, deps, settings, source } = context;
  const lease = leaseIdOf(context);
  const advisoriesDir = request.advisoriesDir ?? bundledAdvisoriesDir;
  const inputs = { image: `${pushed.repository}@${pushed.digest}`, lease: lease };
  return run.step('attest', inputs, async () =>
    runAttestStep({
      client: await context.targetClient(),
      image: pushed,
      signer: await deps.broker.signer(lease, 'pipeline'),
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
        ...(image.baseImage ? { baseImage: image.baseImage } : {}),
        invocationId: run.id,
        startedOn: context.startedOn,
        finishedOn: run.now(),
        byproducts: [
          { name: 'sbom.cdx.json', digest: sbom.digest },
          { name: 'scan.sarif', digest: scan.sarifDigest },
        ],
      },
    }),
  );
}

/** Step 8: the signed commit, the branch and the proposal. */
export function proposeImage(
  context: RunContext,
  evidence: {
    pushed: PushedImage;
    sbom: Sbom;
    scan: ScanOutcome;
    signed: { signatureTag: string; bundleDigest: string; keyId: string };
    attestationTag: string;
  },
) {
  const { run, request, deps, settings, source } = context;
  const lease = leaseIdOf(context);
  const { pushed, scan, signed } = evidence;
  const inputs = {
    configRepo: context.configRemote,
    image: `${pushed.repository}@${pushed.digest}`,
  };
  return run.step('propose', inputs, async () =>
    runProposeStep({
      forge: deps.forge,
      checkout: await context.checkout,
      rendered: scan.rendered,
      signer: await deps.broker.signer(lease, 'pipeline'),
      author: request.author ?? 'pipeline',
      now: run.now(),
      links: {
        service: request.service,
        env: request.env,
        image: pushed,
        sourceRepository: settings.sourceRepo ?? source.repository,
        sourceCommit: source.commit,
        sbomDigest: evidence.sbom.digest,
        signatureTag: signed.signatureTag,
        signatureBundle: signed.bundleDigest,
        attestationTag: evidence.attestationTag,
        scanVerdict: scan.result.verdict,
        scanCounts: scan.result.counts,
        signerKeyId: signed.keyId,
        run: run.id,
      },
    }),
  );
}
