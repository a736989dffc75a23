import { nodeHash } from '../../ledger/merkle.ts';

/** One hash of a proof walked: its inputs and the node they gave. */
interface Step {
  node: Buffer;
  sibling: string;
  siblingOnLeft: boolean;
  parent: Buffer;
}

/**
 * Checks a run of RFC 9162 inclusion proofs against one tree, with the result of
 * `verifyInclusion` for each. Proofs of nearby leaves share their upper path: where a step
 * hashes the same node with the same sibling on the same side as the previous proof's step at
 * that height, its parent is that step's parent and is reused instead of hashed again. Every
 * sibling of every proof is still compared or hashed, so a proof is accepted exactly when it
 * walks to the root.
 */
export class InclusionChecker {
  private previous: Step[] = [];

  constructor(
    private readonly size: number,
    private readonly root: Buffer,
  ) {}

  /** Whether `proof` (hex sibling hashes, bottom up) proves `leaf` at `index`. */
  verify(leaf: Buffer, index: number, proof: string[]): boolean {
    if (index < 0 || index >= this.size) return false;
    const steps: Step[] = [];
    let fn = index;
    let sn = this.size - 1;
    let hash = leaf;
    for (const sibling of proof) {
      if (sn === 0) return false;
      const siblingOnLeft = fn % 2 === 1 || fn === sn;
      const step = this.hashed(this.previous[steps.length], hash, sibling, siblingOnLeft);
      steps.push(step);
      hash = step.parent;
      if (siblingOnLeft && fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
      }
      [fn, sn] = [fn >> 1, sn >> 1];
    }
    this.previous = steps;
    return sn === 0 && hash.equals(this.root);
  }

  private hashed(
    before: Step | undefined,
    node: Buffer,
    sibling: string,
    siblingOnLeft: boolean,
  ): Step {
    const same =
      before !== undefined &&
      before.siblingOnLeft === siblingOnLeft &&
      before.sibling === sibling &&
      before.node.equals(node);
    if (same) return before;
    const other = Buffer.from(sibling, 'hex');
    const parent = siblingOnLeft ? nodeHash(other, node) : nodeHash(node, other);
    return { node, sibling, siblingOnLeft, parent };
  }
}
