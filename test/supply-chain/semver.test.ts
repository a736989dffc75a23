import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseSemVer } from '../../src/supply-chain/scan/index.ts';

describe('compareVersions', () => {
  it('orders the precedence example of the SemVer 2.0.0 specification', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
      '10.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i += 1) {
      expect(
        compareVersions(ordered[i]!, ordered[i + 1]!),
        `${ordered[i]} < ${ordered[i + 1]}`,
      ).toBeLessThan(0);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
  });

  it('ignores build metadata and a leading v', () => {
    expect(compareVersions('v1.2.3+build.5', '1.2.3')).toBe(0);
  });

  it('returns undefined for versions that are not semver', () => {
    expect(compareVersions('1.2', '1.2.0')).toBeUndefined();
    expect(parseSemVer('01.2.3')).toBeUndefined();
  });

  it('is antisymmetric and transitive over generated versions', () => {
    const identifier = fc.oneof(
      fc.nat(20).map(String),
      fc.constantFrom('alpha', 'beta', 'rc', 'x-1'),
    );
    const version = fc
      .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.array(identifier, { maxLength: 3 }))
      .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre.length ? `-${pre.join('.')}` : ''}`);
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        const ab = compareVersions(a, b)!;
        expect(Math.sign(ab)).toBe(-Math.sign(compareVersions(b, a)!) || 0);
        if (ab <= 0 && compareVersions(b, c)! <= 0)
          expect(compareVersions(a, c)!).toBeLessThanOrEqual(0);
      }),
    );
  });
});
