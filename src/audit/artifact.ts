import type { EvidenceIndex } from './evidence-index.ts';
import type { ArtifactAnswer, DeployedImage } from './types.ts';

const PINNED = /^sha256:[0-9a-f]{64}$/;

/**
 * What exactly was deployed: each image the sync applied, joined by digest to the delivery run
 * that built, scanned, signed and attested it, and to the source commit it was built from.
 */
export function answerArtifact(
  index: EvidenceIndex,
  images: { name: string; digest: string; signedBy?: string }[],
): ArtifactAnswer {
  const answered = images.map((image) => describeImage(index, image));
  const commits = answered.map((image) => image.sourceCommit).filter((c) => c !== undefined);
  return { images: answered, sourceCommits: [...new Set(commits)] };
}

function describeImage(
  index: EvidenceIndex,
  image: { name: string; digest: string; signedBy?: string },
): DeployedImage {
  const { name, digest, signedBy } = image;
  const pinned = PINNED.test(digest);
  const delivery = index.last('delivery.completed', 'digest', digest);
  if (!delivery) return { name, digest, pinned, signedBy };
  const started = index.first('delivery.started', 'run', delivery.payload.run);
  // One literal rather than a spread of the fields above: this runs for every deployed image.
  return {
    name,
    digest,
    pinned,
    signedBy,
    run: delivery.payload.run,
    sourceRepo: started?.payload.sourceRepo,
    sourceCommit: started?.payload.sourceCommit,
    sourceCommittedAt: started?.payload.sourceCommittedAt ?? started?.time,
    sbomDigest: delivery.payload.sbomDigest,
    scanVerdict: delivery.payload.scanVerdict,
    signatureTag: delivery.payload.signatureTag,
    attestationTag: delivery.payload.attestationTag,
    provenanceBuilder: delivery.payload.provenanceBuilder,
    builtBy: delivery.actor,
    seq: delivery.seq,
  };
}
