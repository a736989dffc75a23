import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/ledger/canonical.ts';
import { hashEntry, hashStoredEntry } from '../../src/ledger/entry.ts';

describe('canonicalize (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    // The RFC's own sorting example: code-unit order puts the surrogate pair before U+FB33.
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const text = canonicalize(value);
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      text.indexOf(JSON.stringify(k)),
    );
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('writes numbers in ECMAScript shortest form', () => {
    // The RFC's example: the literal rounds to the nearest double, which prints shortest.
    // eslint-disable-next-line no-loss-of-precision
    expect(canonicalize([333333333.33333329, 1e30, 4.5, 0.002, 1e-27, -0])).toBe(
      '[333333333.3333333,1e+30,4.5,0.002,1e-27,0]',
    );
  });

  it('matches the RFC example for literals and escapes', () => {
    expect(
      canonicalize({ literals: [null, true, false], string: '\u20ac$\u000f\nA\'B"\\\\"/' }),
    ).toBe('{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('refuses values JSON cannot carry instead of dropping them', () => {
    expect(() => canonicalize({ a: Number.NaN })).toThrow(/not finite/);
    expect(() => canonicalize({ a: () => 1 })).toThrow(/function is not JSON/);
    expect(() => canonicalize({ a: new Map() })).toThrow(/not plain JSON/);
  });
});

describe('hashStoredEntry', () => {
  it('equals the hash of the fully canonicalized entry', () => {
    const entry = {
      seq: 7,
      time: '2026-01-01T00:00:00.000Z',
      kind: 'k',
      subject: 's "q"',
      actor: 'a',
      payload: { z: 1, a: ['x'] },
      prev: 'ab',
    };
    expect(hashStoredEntry({ ...entry, payloadJson: canonicalize(entry.payload) })).toBe(
      hashEntry(entry),
    );
  });

  it('changes when any field changes', () => {
    const base = {
      seq: 1,
      time: 't',
      kind: 'k',
      subject: 's',
      actor: 'a',
      payloadJson: '{}',
      prev: 'p',
    };
    const hashes = new Set([
      hashStoredEntry(base),
      hashStoredEntry({ ...base, seq: 2 }),
      hashStoredEntry({ ...base, actor: 'b' }),
      hashStoredEntry({ ...base, payloadJson: '{"a":1}' }),
      hashStoredEntry({ ...base, prev: 'q' }),
    ]);
    expect(hashes.size).toBe(5);
  });
});
