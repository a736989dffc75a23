import type { ServiceConfig } from '../config/schema.ts';
import type { Lease } from '../domain/secret-broker.ts';
import { ConfigCheckout } from '../gitops/config-checkout.ts';
import type { RegistryClient } from '../supply-chain/oci/client.ts';
import { parseImageReference } from '../supply-chain/oci/reference.ts';
import { isLoopbackHost, registryClientFor } from './registry-access.ts';
import type { DeliveryRun } from './run.ts';
import type { SourceState } from './source.ts';
import type { DeliverRequest, DeliveryDeps } from './types.ts';

/** Everything the steps of one run share. */
export interface RunContext {
  run: DeliveryRun;
  request: DeliverRequest;
  deps: DeliveryDeps;
  settings: ServiceConfig;
  source: SourceState;
  /** The run's broker lease: opened after the tests, which need no credential. */
  lease?: Lease;
  startedOn: Date;
  /** `<registry>/<service>`: where the image is pushed and what the overlay names. */
  repository: string;
  /** The config repo the proposal goes to. */
  configRemote: string;
  /** The config repo clone, started at once so it overlaps the tests and the build. */
  checkout: Promise<ConfigCheckout>;
  /** A registry client for an image reference's registry, with credentials from the lease. */
  clientForReference(reference: string): Promise<RegistryClient>;
  /** The client of the registry the run pushes to. */
  targetClient(): Promise<RegistryClient>;
}

/** Starts a run's shared state; the config clone begins at once. */
export function runContext(
  run: DeliveryRun,
  request: DeliverRequest,
  deps: DeliveryDeps,
  settings: ServiceConfig,
  source: SourceState,
): RunContext {
  const clientFor = (host: string) =>
    registryClientFor(
      host === deps.registry.host ? deps.registry : { host, insecure: isLoopbackHost(host) },
      deps.broker,
      leaseIdOf(context),
    );
  const configRemote = request.configRepoUrl ?? deps.forge.repositoryUrl;
  const checkout = ConfigCheckout.clone(configRemote, deps.config.configRepo.branch);
  // Awaited by the scan step; a failure before then must not surface as an unhandled rejection.
  checkout.catch(() => undefined);
  const context: RunContext = {
    run,
    request,
    deps,
    settings,
    source,
    startedOn: run.now(),
    repository: `${deps.registry.host}/${request.service}`,
    configRemote,
    checkout,
    clientForReference: (reference) => clientFor(parseImageReference(reference).registry),
    targetClient: () => clientFor(deps.registry.host),
  };
  return context;
}

/** The id of the run's lease; asking before it is open is a bug in the stage order. */
export function leaseIdOf(context: RunContext): string {
  if (!context.lease) throw new Error('the run has no broker lease yet');
  return context.lease.id;
}

/** Removes the config clone, whether or not the run got as far as using it. */
export async function disposeCheckout(context: RunContext): Promise<void> {
  const checkout = await context.checkout.catch(() => undefined);
  checkout?.dispose();
}
