import type { Forge, Proposal } from '../../domain/forge.ts';
import type { ConfigCheckout } from '../../gitops/config-checkout.ts';
import { overlayPath } from '../../gitops/image-bump.ts';
import type { KubeObject } from '../../gitops/render.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { pipelineGitIdentity } from '../defaults.ts';
import { DeliveryError } from '../errors.ts';
import type { StepOutcome } from '../run.ts';
import type { PushedImage } from './publish.ts';

/** What the proposal links to: the evidence a reviewer and the change record need. */
export interface ProposalLinks {
  service: string;
  env: string;
  image: PushedImage;
  sourceRepository: string;
  sourceCommit: string;
  sbomDigest: string;
  signatureTag: string;
  signatureBundle: string;
  attestationTag: string;
  scanVerdict: string;
  scanCounts: Record<string, number>;
  signerKeyId: string;
  run: string;
}

/** `deliver/<service>/<env>/<short-sha>`: one branch per commit and environment. */
export function proposalBranch(service: string, env: string, commit: string): string {
  return `deliver/${service}/${env}/${commit.slice(0, 12)}`;
}

/**
 * Proposes the image: checks the rendered overlay pins exactly the pushed digest and that the
 * overlay is the only changed file, commits it signed by the pipeline key through the broker,
 * pushes the branch and opens the proposal. The pipeline holds no cluster credential: this is
 * the only way its work reaches an environment.
 */
export async function runProposeStep(options: {
  forge: Forge;
  checkout: ConfigCheckout;
  rendered: KubeObject[];
  links: ProposalLinks;
  signer: Signer;
  author: string;
  now: Date;
}): Promise<StepOutcome<{ proposal: Proposal; commit: string; branch: string }>> {
  const { checkout, links } = options;
  const diff = await checkout.diff();
  assertImageOnlyChange(diff.paths, options.rendered, links);

  const branch = proposalBranch(links.service, links.env, links.sourceCommit);
  const identity = { ...pipelineGitIdentity, date: options.now };
  const commit = await checkout.commit({
    branch,
    message: commitMessage(links),
    author: identity,
    signer: options.signer,
  });
  await checkout.push(branch);
  const proposal = await options.forge.openProposal({
    title: `Deliver ${links.service} ${links.sourceCommit.slice(0, 12)} to ${links.env}`,
    description: proposalDescription(links),
    author: options.author,
    branch,
    baseBranch: checkout.baseBranch,
    evidence: {
      artifact: `${links.image.repository}@${links.image.digest}`,
      sbomDigest: links.sbomDigest,
      signer: links.signerKeyId,
      scanVerdict: links.scanVerdict,
    },
  });
  return {
    value: { proposal, commit, branch },
    outputs: {
      proposal: proposal.id,
      branch,
      commit,
      baseCommit: checkout.baseCommit,
      changedPaths: [overlayPath(links.service, links.env)],
      diff: diff.text,
    },
    detail: `proposal ${proposal.id} on ${branch}`,
  };
}

function assertImageOnlyChange(
  changed: string[],
  rendered: KubeObject[],
  links: ProposalLinks,
): void {
  const pinned = `@${links.image.digest}`;
  const images = rendered.flatMap(containerImages);
  if (!images.some((image) => image.startsWith(links.image.repository) && image.endsWith(pinned))) {
    throw new DeliveryError(
      'RENDER_MISMATCH',
      `the rendered ${links.env} overlay of ${links.service} does not run ${links.image.repository}${pinned}; check the images: entry's name`,
    );
  }
  const expected = overlayPath(links.service, links.env);
  if (changed.length !== 1 || changed[0] !== expected) {
    throw new DeliveryError(
      'RENDER_MISMATCH',
      `the change touches ${changed.join(', ') || 'nothing'}, not only ${expected}`,
    );
  }
}

/** Every container image of a workload, from its pod template or pod spec. */
function containerImages(object: KubeObject): string[] {
  const spec = (object.spec ?? {}) as { template?: { spec?: PodSpec } } & PodSpec;
  const pod = spec.template?.spec ?? spec;
  return [...(pod.containers ?? []), ...(pod.initContainers ?? [])]
    .map((container) => container.image)
    .filter((image): image is string => typeof image === 'string');
}

interface PodSpec {
  containers?: { image?: unknown }[];
  initContainers?: { image?: unknown }[];
}

function commitMessage(links: ProposalLinks): string {
  return [
    `Deliver ${links.service} ${links.sourceCommit.slice(0, 12)} to ${links.env}`,
    '',
    `Image: ${links.image.repository}:${links.image.tag}@${links.image.digest}`,
    `Source: ${links.sourceRepository}@${links.sourceCommit}`,
    `Run: ${links.run}`,
    '',
  ].join('\n');
}

/** The proposal's description: every artifact a reviewer checks, by digest or tag. */
export function proposalDescription(links: ProposalLinks): string {
  const repository = links.image.repository;
  const counts = Object.entries(links.scanCounts)
    .map(([severity, count]) => `${severity} ${count}`)
    .join(', ');
  return [
    `Routine delivery of \`${links.service}\` to \`${links.env}\` by changeproof run \`${links.run}\`.`,
    'The only change is the image reference in the overlay.',
    '',
    `- Artifact: \`${repository}:${links.image.tag}@${links.image.digest}\``,
    `- Source: \`${links.sourceRepository}\` at \`${links.sourceCommit}\``,
    `- SBOM (CycloneDX 1.6): \`${links.sbomDigest}\`, attested in \`${repository}:${links.attestationTag}\``,
    `- Signature: \`${repository}:${links.signatureTag}\` (cosign), bundle \`${repository}@${links.signatureBundle}\`, key \`${links.signerKeyId}\``,
    `- Attestations: \`${repository}:${links.attestationTag}\` (SLSA provenance v1, CycloneDX, scan result)`,
    `- Scan verdict: **${links.scanVerdict}** (${counts})`,
    '',
  ].join('\n');
}
