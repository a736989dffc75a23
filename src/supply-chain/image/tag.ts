import { SupplyChainError } from '../supply-chain-error.ts';

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const commitPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** True for a full git commit id (SHA-1 or SHA-256 object format), lowercase hex. */
export function isCommitSha(value: string): boolean {
  return commitPattern.test(value);
}

/**
 * Refuses tags that can be moved to other content later: `latest` always, and, when the source
 * commit is known, anything other than that full commit SHA.
 */
export function assertImmutableTag(tag: string, sourceCommit?: string): void {
  if (!tagPattern.test(tag)) {
    throw new SupplyChainError(
      'INVALID_TAG',
      `image tag ${JSON.stringify(tag)} is not a valid OCI tag`,
    );
  }
  if (tag === 'latest') {
    throw new SupplyChainError(
      'MUTABLE_TAG',
      'image tag latest is mutable; tag with the full source commit SHA',
    );
  }
  if (sourceCommit === undefined) return;
  if (!isCommitSha(sourceCommit)) {
    throw new SupplyChainError(
      'INVALID_TAG',
      `source commit ${sourceCommit} is not a full commit SHA`,
    );
  }
  if (tag !== sourceCommit) {
    throw new SupplyChainError(
      'MUTABLE_TAG',
      `image tag ${tag} is not the source commit; tag with the full SHA ${sourceCommit}`,
    );
  }
}
