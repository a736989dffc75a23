import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) over the ledger's entry hashes:
 * leaf = SHA-256(0x00 || entry hash), node = SHA-256(0x01 || left || right), split at the
 * largest power of two below the size. Checkpoints seal its root; proofs follow the RFC so that
 * any verifier that knows CT can check them.
 */
const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

// One-shot crypto.hash is two to three times faster than createHash for inputs this small,
// which is most of the cost of verifying a long chain.
export function leafHash(entryHashHex: string): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, Buffer.from(entryHashHex, 'hex')]), 'buffer');
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}

const EMPTY_ROOT = createHash('sha256').digest();

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Computes roots incrementally as leaves arrive, keeping only O(log n) hashes: the "compact
 * range" of complete subtrees. Used to verify a million-entry chain without holding it.
 */
export class MerkleAccumulator {
  private readonly stack: { start: number; size: number; hash: Buffer }[] = [];
  size = 0;

  /** `onSubtree` sees every complete subtree as it forms: leaves `[start, start + size)`. */
  constructor(private readonly onSubtree?: (start: number, size: number, hash: Buffer) => void) {}

  add(leaf: Buffer): void {
    let node = { start: this.size, size: 1, hash: leaf };
    this.onSubtree?.(node.start, 1, leaf);
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { start: left.start, size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
      this.onSubtree?.(node.start, node.size, node.hash);
    }
    this.stack.push(node);
    this.size += 1;
  }

  /**
   * The root of the leaves from `start` to the current size: a node on the right edge of the
   * current tree, so `start` must begin one of the complete subtrees held.
   */
  rangeRoot(start: number): Buffer {
    const first = this.stack.findIndex((node) => node.start === start);
    if (first < 0) throw new RangeError(`no subtree starts at ${start}`);
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= first; i -= 1)
      hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }

  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i -= 1) hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }
}

/** A tree held in memory with every complete level, so each proof costs O(log n). */
export class MerkleTree {
  private readonly levels: Buffer[][];

  constructor(leaves: Buffer[]) {
    this.levels = [leaves];
    let level = leaves;
    while (level.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
      this.levels.push(next);
      level = next;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  root(size = this.size): Buffer {
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  /** Audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 2.1.3.1). */
  inclusionProof(index: number, size = this.size): Buffer[] {
    if (index < 0 || index >= size || size > this.size) throw new RangeError('leaf out of range');
    return this.path(index, 0, size);
  }

  /** Proof that the tree of `oldSize` leaves is a prefix of the tree of `size` (2.1.4.1). */
  consistencyProof(oldSize: number, size = this.size): Buffer[] {
    if (size > this.size) throw new RangeError('bad tree sizes');
    return consistencyProofRanges(oldSize, size).map((range) =>
      this.subtree(range.start, range.size),
    );
  }

  private path(index: number, start: number, size: number): Buffer[] {
    if (size === 1) return [];
    const k = largestPowerOfTwoBelow(size);
    return index < k
      ? [...this.path(index, start, k), this.subtree(start + k, size - k)]
      : [...this.path(index - k, start + k, size - k), this.subtree(start, k)];
  }

  private subtree(start: number, size: number): Buffer {
    const height = Math.log2(size);
    if (Number.isInteger(height) && start % size === 0) return this.levels[height]![start / size]!;
    const k = largestPowerOfTwoBelow(size);
    return nodeHash(this.subtree(start, k), this.subtree(start + k, size - k));
  }
}

/** Leaves `[start, start + size)`: one node of a Merkle tree. */
export interface SubtreeRange {
  start: number;
  size: number;
}

/**
 * Which nodes a consistency proof from `oldSize` to `size` consists of, in proof order
 * (RFC 9162 2.1.4.1, SUBPROOF). Each is either a complete subtree or on the right edge of the
 * tree of `size`, so a streaming verifier can collect them as the leaves go by.
 */
export function consistencyProofRanges(oldSize: number, size: number): SubtreeRange[] {
  if (oldSize < 1 || oldSize > size) throw new RangeError('bad tree sizes');
  const ranges: SubtreeRange[] = [];
  let [m, start, n, complete] = [oldSize, 0, size, true];
  const right: SubtreeRange[] = [];
  while (m !== n) {
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      right.push({ start: start + k, size: n - k });
      n = k;
    } else {
      right.push({ start, size: k });
      [m, start, n, complete] = [m - k, start + k, n - k, false];
    }
  }
  if (!complete) ranges.push({ start, size: n });
  return [...ranges, ...right.reverse()];
}

/** RFC 9162 2.1.3.2: true when `proof` places `leaf` at `index` under `root`. */
export function verifyInclusion(
  leaf: Buffer,
  index: number,
  size: number,
  proof: Buffer[],
  root: Buffer,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let hash = leaf;
  for (const sibling of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(sibling, hash);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else {
      hash = nodeHash(hash, sibling);
    }
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 && hash.equals(root);
}

/** RFC 9162 2.1.4.2: true when the tree with `oldRoot` is a prefix of the one with `root`. */
export function verifyConsistency(
  oldSize: number,
  size: number,
  oldRoot: Buffer,
  root: Buffer,
  proof: Buffer[],
): boolean {
  if (oldSize < 1 || oldSize > size) return false;
  if (oldSize === size) return proof.length === 0 && oldRoot.equals(root);
  const path = Number.isInteger(Math.log2(oldSize)) ? [oldRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = oldSize - 1;
  let sn = size - 1;
  while (fn % 2 === 1) [fn, sn] = [fn >> 1, sn >> 1];
  let oldHash = path[0]!;
  let newHash = path[0]!;
  for (const node of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      oldHash = nodeHash(node, oldHash);
      newHash = nodeHash(node, newHash);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else {
      newHash = nodeHash(newHash, node);
    }
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 && oldHash.equals(oldRoot) && newHash.equals(root);
}
