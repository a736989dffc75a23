import { randomUUID } from 'node:crypto';
import { defaultService, type ServiceConfig } from '../config/schema.ts';
import { isChangeproofError, messageOf } from '../errors.ts';
import {
  assertNoClusterCredentials,
  processProbe,
  type ClusterCredentialProbe,
} from './cluster-credentials.ts';
import { DeliveryError, DeliveryStepError } from './errors.ts';
import { silentProgress } from './progress.ts';
import { DeliveryRun } from './run.ts';
import { disposeCheckout, leaseIdOf, runContext, type RunContext } from './context.ts';
import { assertDeliverable, inspectSource, type SourceState } from './source.ts';
import {
  attestImage,
  buildOrLoadImage,
  testSource,
  describeImage,
  proposeImage,
  pushImage,
  scanImage,
  signImage,
} from './stages.ts';
import type { DeliverRequest, DeliveryDeps, DeliveryResult } from './types.ts';

/** Every credential a run holds: signing with the pipeline key and reading registry secrets. */
const leaseScopes = ['sign:pipeline', 'read:registry/'];
/** The lease's lifetime unless the run asks for another: long enough for a build, no longer. */
export const defaultLeaseTtlSeconds = 900;

/**
 * `changeproof deliver`: test, build, SBOM, scan gate, push, sign, attest, propose. Each step
 * leaves a `delivery.step` entry; the run ends with `delivery.completed` or `delivery.failed`
 * naming the step and why. A failed step stops the run: nothing later is pushed, signed or
 * proposed. The run's only credential is a broker lease, revoked when it ends either way. It
 * never holds a cluster credential: that is measured before the tests, when the lease opens and
 * at the end (see cluster-credentials.ts), and a run that would hold one is refused.
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
  const context = runContext(run, request, deps, settings, source);
  try {
    return await runSteps(context);
  } catch (error) {
    const step = error instanceof DeliveryStepError ? error.step : 'run';
    await recordFailure(run, request, step, error);
    throw error;
  } finally {
    await disposeCheckout(context);
    if (context.lease) await deps.broker.revokeLease(context.lease.id);
  }
}

/** The steps in order; each stage records its step, and a failure stops the rest. */
async function runSteps(context: RunContext): Promise<DeliveryResult> {
  const probe = context.deps.clusterProbe ?? processProbe();
  assertNoClusterCredentials([], probe);
  await testSource(context);
  // The lease starts after the tests, so a long test suite cannot outlive it.
  context.lease = await context.deps.broker.openLease({
    holder: context.run.actor,
    scopes: leaseScopes,
    ttlSeconds: context.request.leaseTtlSeconds ?? defaultLeaseTtlSeconds,
  });
  // The broker decides what a lease grants; a lease wider than asked must not reach a cluster.
  assertNoClusterCredentials([context.lease], probe);
  const image = await buildOrLoadImage(context);
  const sbom = await describeImage(context, image);
  const scan = await scanImage(context, image, sbom);
  const pushed = await pushImage(context, image);
  const signed = await signImage(context, image, pushed);
  const attested = await attestImage(context, image, pushed, sbom, scan);
  const proposed = await proposeImage(context, {
    pushed,
    sbom,
    scan,
    signed,
    attestationTag: attested.attestationTag,
  });

  const { run, request } = context;
  const lease = leaseIdOf(context);
  const result: DeliveryResult = {
    run: run.id,
    service: request.service,
    env: request.env,
    sourceCommit: context.source.commit,
    image: `${pushed.repository}@${pushed.digest}`,
    tag: pushed.tag,
    digest: pushed.digest,
    sbomDigest: sbom.digest,
    scanVerdict: 'pass',
    scanCounts: scan.result.counts,
    signatureTag: signed.signatureTag,
    signatureBundle: signed.bundleDigest,
    attestationTag: attested.attestationTag,
    proposal: { id: proposed.proposal.id, branch: proposed.branch, commit: proposed.commit },
    leases: [lease],
    clusterCredentialsHeld: clusterCredentialsHeld(context, probe),
  };
  await run.evidence('delivery.completed', {
    run: run.id,
    service: request.service,
    env: request.env,
    image: result.image,
    sbomDigest: result.sbomDigest,
    scanVerdict: 'pass',
    signatureTag: result.signatureTag,
    attestationTag: result.attestationTag,
    proposal: result.proposal.id,
    leases: result.leases,
    clusterCredentialsHeld: result.clusterCredentialsHeld,
  });
  return result;
}

/**
 * The run's final measurement over every lease it opened: `false`, or the run is refused. Typed
 * `false` because a run that holds a cluster credential never completes.
 */
function clusterCredentialsHeld(context: RunContext, probe: ClusterCredentialProbe): false {
  assertNoClusterCredentials(context.lease ? [context.lease] : [], probe);
  return false;
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
