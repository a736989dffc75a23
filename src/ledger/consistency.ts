import type { Checkpoint } from './checkpoint.ts';
import {
  MerkleAccumulator,
  consistencyProofRanges,
  verifyConsistency,
  type SubtreeRange,
} from './merkle.ts';

/** Two successive checkpoints whose signed roots do not prove one extends the other. */
export interface InconsistentCheckpoints {
  from: number;
  to: number;
}

interface PendingProof {
  from: Checkpoint;
  to: Checkpoint;
  ranges: SubtreeRange[];
}

/**
 * Checks, while the chain streams by, that each checkpoint is consistent with the next: builds
 * the RFC 9162 consistency proof between their sizes from the stored entries and verifies it
 * against the two signed roots. A checkpoint re-sealed over rewritten history, or a later one
 * that forks from an earlier one, fails here even where each root alone was recomputed.
 *
 * Holds O(log n) hashes per checkpoint pair: the complete subtrees a proof needs are kept as the
 * accumulator forms them; the right-edge nodes are read off the accumulator at the later size.
 */
export class CheckpointConsistency {
  readonly accumulator: MerkleAccumulator;
  private readonly wanted = new Map<number, Map<number, Buffer | undefined>>();
  private readonly pending = new Map<number, PendingProof>();

  constructor(checkpoints: readonly Checkpoint[]) {
    this.accumulator = new MerkleAccumulator((start, size, hash) => this.keep(start, size, hash));
    for (let i = 1; i < checkpoints.length; i += 1) {
      const [from, to] = [checkpoints[i - 1]!, checkpoints[i]!];
      const ranges = consistencyProofRanges(from.treeSize, to.treeSize);
      for (const range of ranges) this.want(range);
      this.pending.set(to.treeSize, { from, to, ranges });
    }
  }

  /** Call once the accumulator holds `size` leaves; reports the pair ending there if it fails. */
  checkAt(size: number): InconsistentCheckpoints | undefined {
    const proof = this.pending.get(size);
    if (!proof) return undefined;
    this.pending.delete(size);
    const nodes = proof.ranges.map((range) => this.nodeOf(range));
    const consistent = verifyConsistency(
      proof.from.treeSize,
      proof.to.treeSize,
      Buffer.from(proof.from.rootHash, 'hex'),
      Buffer.from(proof.to.rootHash, 'hex'),
      nodes,
    );
    return consistent ? undefined : { from: proof.from.treeSize, to: proof.to.treeSize };
  }

  private want(range: SubtreeRange): void {
    const starts = this.wanted.get(range.size) ?? new Map<number, Buffer | undefined>();
    starts.set(range.start, undefined);
    this.wanted.set(range.size, starts);
  }

  private keep(start: number, size: number, hash: Buffer): void {
    const starts = this.wanted.get(size);
    if (starts?.has(start)) starts.set(start, hash);
  }

  /** A complete subtree kept as it formed, or a right-edge node of the current tree. */
  private nodeOf(range: SubtreeRange): Buffer {
    return this.wanted.get(range.size)?.get(range.start) ?? this.accumulator.rangeRoot(range.start);
  }
}
