import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InclusionChecker } from '../../src/audit/pack/inclusion.ts';
import { MerkleTree, leafHash, verifyInclusion } from '../../src/ledger/merkle.ts';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(String(i)).digest('hex')),
  );

const hex = (proof: Buffer[]) => proof.map((node) => node.toString('hex'));

describe('InclusionChecker', () => {
  it('proves every leaf of every tree size up to 40, checked in ledger order', () => {
    for (let size = 1; size <= 40; size += 1) {
      const items = leaves(size);
      const tree = new MerkleTree(items);
      const sut = new InclusionChecker(size, tree.root());
      for (let index = 0; index < size; index += 1) {
        expect(sut.verify(items[index]!, index, hex(tree.inclusionProof(index)))).toBe(true);
      }
    }
  });

  it('agrees with verifyInclusion on any run of proofs, valid or with one byte changed', () => {
    const size = 75;
    const items = leaves(size);
    const tree = new MerkleTree(items);
    const root = tree.root();
    const proofs = items.map((_, index) => tree.inclusionProof(index));
    const step = fc.record({
      index: fc.nat(size - 1),
      wrongIndex: fc.option(fc.nat(size - 1)),
      tamper: fc.option(fc.record({ node: fc.nat(20), byte: fc.nat(31) })),
      tamperLeaf: fc.boolean(),
      truncate: fc.boolean(),
    });
    // Sorted, as a pack's entries are, so that consecutive proofs share their upper paths.
    const run = fc
      .array(step, { minLength: 1, maxLength: 60 })
      .map((steps) => steps.sort((a, b) => a.index - b.index));
    fc.assert(
      fc.property(run, (steps) => {
        const sut = new InclusionChecker(size, root);
        for (const s of steps) {
          const proof = proofs[s.index]!.map((node) => Buffer.from(node));
          const { tamper } = s;
          const tampered = tamper ? proof[tamper.node % proof.length] : undefined;
          if (tamper && tampered) tampered[tamper.byte] = tampered[tamper.byte]! ^ 0x01;
          if (s.truncate) proof.pop();
          const leaf = Buffer.from(items[s.index]!);
          if (s.tamperLeaf) leaf[0] = leaf[0]! ^ 0x01;
          const index = s.wrongIndex ?? s.index;
          const expected = verifyInclusion(leaf, index, size, proof, root);
          expect(sut.verify(leaf, index, hex(proof))).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a proof with an altered upper sibling right after the same proof passed', () => {
    const items = leaves(40);
    const tree = new MerkleTree(items);
    const sut = new InclusionChecker(40, tree.root());
    const proof = hex(tree.inclusionProof(9));
    expect(sut.verify(items[9]!, 9, proof)).toBe(true);
    const altered = [...proof];
    altered[4] = `${altered[4]!.slice(0, 63)}${altered[4]!.endsWith('0') ? '1' : '0'}`;
    expect(sut.verify(items[9]!, 9, altered)).toBe(false);
  });

  it('refuses another leaf at a position whose proof just passed', () => {
    const items = leaves(40);
    const tree = new MerkleTree(items);
    const sut = new InclusionChecker(40, tree.root());
    const proof = hex(tree.inclusionProof(9));
    expect(sut.verify(items[9]!, 9, proof)).toBe(true);
    expect(sut.verify(items[10]!, 9, proof)).toBe(false);
  });

  it('refuses every proof against the root of another tree of the same size', () => {
    const items = leaves(20);
    const tree = new MerkleTree(items);
    const sut = new InclusionChecker(20, new MerkleTree(leaves(21).slice(1)).root());
    for (let index = 0; index < 20; index += 1) {
      expect(sut.verify(items[index]!, index, hex(tree.inclusionProof(index)))).toBe(false);
    }
  });
});
