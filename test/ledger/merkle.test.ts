import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MerkleAccumulator,
  MerkleTree,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle.ts';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(String(i)).digest('hex')),
  );

/** The RFC 9162 definition, written directly and slowly, as the reference. */
function referenceRoot(items: Buffer[]): Buffer {
  if (items.length === 0) return createHash('sha256').digest();
  if (items.length === 1) return items[0]!;
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  return nodeHash(referenceRoot(items.slice(0, k)), referenceRoot(items.slice(k)));
}

describe('Merkle tree (RFC 9162)', () => {
  it('computes the same root as the recursive definition, in memory and streaming', () => {
    for (let n = 0; n <= 70; n += 1) {
      const items = leaves(n);
      const accumulator = new MerkleAccumulator();
      items.forEach((leaf) => accumulator.add(leaf));
      expect(new MerkleTree(items).root().equals(referenceRoot(items))).toBe(true);
      expect(accumulator.root().equals(referenceRoot(items))).toBe(true);
    }
  });

  it('proves every leaf of every tree size up to 40, and no leaf at a wrong index', () => {
    for (let size = 1; size <= 40; size += 1) {
      const tree = new MerkleTree(leaves(size));
      const root = tree.root();
      for (let index = 0; index < size; index += 1) {
        const proof = tree.inclusionProof(index);
        expect(verifyInclusion(leaves(size)[index]!, index, size, proof, root)).toBe(true);
        if (size > 1) {
          expect(verifyInclusion(leaves(size)[index]!, (index + 1) % size, size, proof, root)).toBe(
            false,
          );
        }
      }
    }
  });

  it('proves consistency between every pair of sizes up to 33', () => {
    const tree = new MerkleTree(leaves(33));
    for (let size = 1; size <= 33; size += 1) {
      for (let old = 1; old <= size; old += 1) {
        const proof = tree.consistencyProof(old, size);
        expect(verifyConsistency(old, size, tree.root(old), tree.root(size), proof)).toBe(true);
      }
    }
  });

  it('rejects a consistency proof when history was rewritten', () => {
    const honest = new MerkleTree(leaves(20));
    const rewritten = leaves(20);
    rewritten[3] = leafHash('ff'.repeat(32));
    const forged = new MerkleTree(rewritten);
    const proof = forged.consistencyProof(10, 20);
    expect(verifyConsistency(10, 20, honest.root(10), forged.root(20), proof)).toBe(false);
  });

  it('rejects any tampered proof element (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 64 }),
        fc.nat(),
        fc.nat(),
        (size, rawIndex, rawStep) => {
          const items = leaves(size);
          const tree = new MerkleTree(items);
          const index = rawIndex % size;
          const proof = tree.inclusionProof(index);
          const step = rawStep % proof.length;
          const tampered = proof.map((p, i) =>
            i === step ? createHash('sha256').update(p).digest() : p,
          );
          return !verifyInclusion(items[index]!, index, size, tampered, tree.root());
        },
      ),
    );
  });
});
