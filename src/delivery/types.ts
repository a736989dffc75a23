import type { ChangeproofConfig } from '../config/schema.ts';
import type { Forge } from '../domain/forge.ts';
import type { SecretBroker } from '../domain/secret-broker.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ScanPolicy } from '../supply-chain/scan/policy.ts';
import type { ClusterCredentialProbe } from './cluster-credentials.ts';
import type { DeliveryProgress } from './progress.ts';
import type { RegistryTarget } from './registry-access.ts';

/** What `changeproof deliver` is asked to do. */
export interface DeliverRequest {
  service: string;
  env: string;
  /** The application checkout; the current folder by default. */
  sourceDir: string;
  /** `ref@sha256:…` of an image built elsewhere: the run skips test and build. */
  image?: string;
  /** SARIF logs of other scanners, ingested by the scan gate. */
  sarifFiles?: string[];
  /** Build a tree with uncommitted changes or a detached HEAD; recorded in the ledger. */
  allowDirty?: boolean;
  /** Clone from and push to this config repo instead of the forge's. */
  configRepoUrl?: string;
  /** A stricter scan policy than the service's; a looser one is refused. */
  scanPolicy?: ScanPolicy;
  /** A JUnit XML report the test command writes, relative to the source. */
  junitFile?: string;
  /** Who the proposal is opened as; `pipeline` by default. */
  author?: string;
  /** OSV advisories the scan gate reads; the demo's own set by default. */
  advisoriesDir?: string;
  /** SLSA `builder.id`; derived from the CI environment by default. */
  builderId?: string;
  /** How long the run's broker lease lives, in seconds; 900 (15 minutes) by default. */
  leaseTtlSeconds?: number;
}

/** The ports and settings a run uses; passed in, never reached for. */
export interface DeliveryDeps {
  config: ChangeproofConfig;
  ledger: Ledger;
  broker: SecretBroker;
  forge: Forge;
  registry: RegistryTarget;
  progress?: DeliveryProgress;
  /** Where the test command's output goes; discarded when not given. */
  testOutput?: NodeJS.WritableStream;
  clock?: () => Date;
  /** Where the run looks for cluster credentials it must not hold; the process's own by default. */
  clusterProbe?: ClusterCredentialProbe;
}

/** The one JSON result of a run, printed on stdout by the CLI. */
export interface DeliveryResult {
  run: string;
  service: string;
  env: string;
  sourceCommit: string;
  /** `<registry>/<repository>@sha256:…` */
  image: string;
  tag: string;
  digest: string;
  sbomDigest: string;
  scanVerdict: 'pass';
  scanCounts: Record<string, number>;
  signatureTag: string;
  /** Digest of the Sigstore bundle referrer. */
  signatureBundle: string;
  attestationTag: string;
  proposal: { id: string; branch: string; commit: string };
  leases: string[];
  /** Measured at the end of the run; a run that would hold one is refused instead. */
  clusterCredentialsHeld: false;
}
