import type { CycloneDxBom } from '../sbom/cyclonedx.ts';
import type { ScanGateResult } from '../scan/gate.ts';

export const SlsaProvenanceV1 = 'https://slsa.dev/provenance/v1';
export const CycloneDxPredicateType = 'https://cyclonedx.org/bom';
/**
 * The scan result uses cosign's vulnerability predicate type, so `cosign verify-attestation
 * --type vuln` and Kyverno `attestations[].type` find it; its `scanner.result` carries
 * changeproof's verdict and the SARIF log.
 */
export const VulnPredicateType = 'https://cosign.sigstore.dev/attestation/vuln/v1';
/** Identifies changeproof's build recipe in SLSA provenance `buildType`. */
export const ChangeproofBuildType = 'https://changeproof.dev/buildtypes/deliver/v1';

export interface ProvenanceInput {
  /** Who ran the build, e.g. `https://changeproof.dev/builders/jenkins@v1` or a CI job URL. */
  builderId: string;
  source: { repository: string; commit: string; ref?: string };
  service: string;
  environment?: string;
  /** The base image, when there was one. */
  baseImage?: { reference: string; digest: string };
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /** Other outputs of the run (SBOM, SARIF) by name and sha256 digest. */
  byproducts?: { name: string; digest: string }[];
}

/** SLSA provenance v1 predicate for an image built by the governed pipeline. */
export function provenancePredicate(input: ProvenanceInput) {
  const sourceUri = `git+${input.source.repository}${input.source.ref ? `@${input.source.ref}` : ''}`;
  const resolvedDependencies: { uri: string; digest: Record<string, string> }[] = [
    { uri: sourceUri, digest: { gitCommit: input.source.commit } },
  ];
  if (input.baseImage) {
    resolvedDependencies.push({
      uri: `oci://${input.baseImage.reference}`,
      digest: { sha256: input.baseImage.digest.replace(/^sha256:/, '') },
    });
  }
  return {
    buildDefinition: {
      buildType: ChangeproofBuildType,
      externalParameters: {
        source: {
          repository: input.source.repository,
          commit: input.source.commit,
          ...(input.source.ref ? { ref: input.source.ref } : {}),
        },
        service: input.service,
        ...(input.environment ? { environment: input.environment } : {}),
      },
      internalParameters: {},
      resolvedDependencies,
    },
    runDetails: {
      builder: { id: input.builderId },
      metadata: {
        invocationId: input.invocationId,
        startedOn: input.startedOn.toISOString(),
        finishedOn: input.finishedOn.toISOString(),
      },
      byproducts: (input.byproducts ?? []).map((b) => ({
        name: b.name,
        digest: { sha256: b.digest.replace(/^sha256:/, '') },
      })),
    },
  };
}

/** The CycloneDX predicate is the BOM itself, as cosign attaches it. */
export function sbomPredicate(bom: CycloneDxBom): CycloneDxBom {
  return bom;
}

export interface ScanPredicateInput {
  result: ScanGateResult;
  invocationId: string;
  builderId: string;
  advisoryDatabase: { uri: string; version: string };
  startedOn: Date;
  finishedOn: Date;
  scannerVersion?: string;
}

/** The scan verdict in cosign's vulnerability predicate shape. */
export function scanPredicate(input: ScanPredicateInput) {
  const { sarif, ...verdict } = input.result;
  return {
    invocation: {
      parameters: [`--policy=${verdict.policy}`],
      uri: '',
      event_id: input.invocationId,
      'builder.id': input.builderId,
    },
    scanner: {
      uri: 'pkg:npm/changeproof',
      version: input.scannerVersion ?? '0.1.0',
      db: input.advisoryDatabase,
      result: {
        verdict: verdict.verdict,
        policy: verdict.policy,
        counts: verdict.counts,
        exceptionsApplied: verdict.exceptionsApplied,
        exceptionsExpired: verdict.exceptionsExpired,
        sarif,
      },
    },
    metadata: {
      scanStartedOn: input.startedOn.toISOString(),
      scanFinishedOn: input.finishedOn.toISOString(),
    },
  };
}
