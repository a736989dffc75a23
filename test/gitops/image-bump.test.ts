import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { bumpImage, ImageBumpError } from '../../src/gitops/image-bump.ts';

const sha = 'a'.repeat(40);
const digest = `sha256:${'b'.repeat(64)}`;

/** Lines that never touch the entry under test: comments, other keys, blank lines. */
const comment = fc
  .string({ unit: fc.constantFrom('a', 'Z', ' ', ':', '#', '-', "'", '"', 'é'), maxLength: 20 })
  .map((text) => `# ${text}`.trimEnd());
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const scalar = fc.oneof(
  word,
  word.map((w) => `"${w}"`),
  word.map((w) => `'${w}'`),
  fc.integer({ min: 0, max: 999 }).map(String),
);
const topLevelLine = fc.oneof(
  comment,
  fc.constant(''),
  // KEY is numbered per file in overlay(): YAML refuses duplicate keys.
  scalar.map((value) => `KEY: ${value}`),
);
const quoting = fc.constantFrom('plain', 'double', 'single');

function quote(value: string, style: string): string {
  if (style === 'double') return `"${value}"`;
  if (style === 'single') return `'${value}'`;
  return value;
}

/**
 * Builds an overlay around one `images:` entry. `tag` and `digest` are what the entry says;
 * the same inputs with other values give the file the bump must produce.
 */
const overlayCase = fc.record({
  before: fc.array(topLevelLine, { maxLength: 6 }),
  after: fc.array(topLevelLine, { maxLength: 6 }),
  indent: fc.constantFrom('', '  ', '    '),
  otherImagesBefore: fc.array(word, { maxLength: 2 }),
  otherImagesAfter: fc.array(word, { maxLength: 2 }),
  extraFields: fc.uniqueArray(
    fc.tuple(fc.constantFrom('newName', 'x-note'), scalar, fc.option(comment)),
    { maxLength: 2, selector: ([key]) => key },
  ),
  tagComment: fc.option(comment),
  tagStyle: quoting,
  tagFirst: fc.boolean(),
  hasDigest: fc.boolean(),
  digestStyle: quoting,
  trailingNewline: fc.boolean(),
});

type OverlayCase = typeof overlayCase extends fc.Arbitrary<infer T> ? T : never;

function overlay(c: OverlayCase, tag: string, digestValue: string) {
  const item = (name: string) => `${c.indent}- name: ${name}\n${c.indent}  newTag: other`;
  const fieldIndent = `${c.indent}  `;
  const extra = c.extraFields.map(
    ([key, value, note]) => `${fieldIndent}${key}: ${value}${note ? ` ${note}` : ''}`,
  );
  const tagLine = `${fieldIndent}newTag: ${quote(tag, c.tagStyle)}${c.tagComment ? ` ${c.tagComment}` : ''}`;
  const fields = c.tagFirst ? [tagLine, ...extra] : [...extra, tagLine];
  if (c.hasDigest) fields.push(`${fieldIndent}digest: ${quote(digestValue, c.digestStyle)}`);
  else if (digestValue !== 'none') fields.push(`${fieldIndent}digest: ${digestValue}`);
  let keys = 0;
  const numbered = (line: string) => line.replace(/^KEY:/, () => `x-key-${(keys += 1)}:`);
  const lines = [
    ...c.before.map(numbered),
    'images:',
    ...c.otherImagesBefore.map((name) => item(`before-${name}`)),
    `${c.indent}- name: checkout`,
    ...fields,
    ...c.otherImagesAfter.map((name) => item(`after-${name}`)),
    ...c.after.map(numbered),
  ];
  return lines.join('\n') + (c.trailingNewline ? '\n' : '');
}

describe('bumpImage', () => {
  it('changes only the tag and digest of the entry, keeping every other byte', () => {
    fc.assert(
      fc.property(overlayCase, (c) => {
        const input = overlay(c, 'unreleased', c.hasDigest ? `sha256:${'c'.repeat(64)}` : 'none');
        const expected = overlay(c, sha, digest);

        const output = bumpImage(input, { name: 'checkout', newTag: sha, digest });

        expect(output).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('produces a file kustomize reads with the new tag and digest', () => {
    const input = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      '# routine deliveries change the entry below',
      'images:',
      '  - name: checkout # the base manifests use this name',
      '    newName: "127.0.0.1:5000/checkout"',
      '    newTag: unreleased',
      '',
    ].join('\n');

    const output = bumpImage(input, { name: 'checkout', newTag: sha, digest });

    expect(parse(output).images[0]).toEqual({
      name: 'checkout',
      newName: '127.0.0.1:5000/checkout',
      newTag: sha,
      digest,
    });
    const changed = output.split('\n').filter((line) => !input.split('\n').includes(line));
    expect(changed).toEqual([`    newTag: ${sha}`, `    digest: ${digest}`]);
  });

  it('quotes a tag that would otherwise read as a number', () => {
    const output = bumpImage('images:\n  - name: checkout\n    newTag: old\n', {
      name: 'checkout',
      newTag: '1234567890123456789012345678901234567890',
      digest,
    });

    expect(parse(output).images[0].newTag).toBe('1234567890123456789012345678901234567890');
  });

  it('edits flow-style entries in place', () => {
    const output = bumpImage('images: [{name: checkout, newTag: old}] # pinned\n', {
      name: 'checkout',
      newTag: sha,
      digest,
    });

    expect(output).toBe(`images: [{name: checkout, newTag: ${sha}, digest: ${digest}}] # pinned\n`);
  });

  it('writes newName only when the image moved to another repository', () => {
    const input = 'images:\n  - name: checkout\n    newName: r.test/checkout\n    newTag: old\n';

    expect(
      bumpImage(input, { name: 'checkout', newTag: sha, digest, newName: 'r.test/checkout' }),
    ).not.toContain('newName: r.test/checkout\n    newName');
    expect(
      bumpImage(input, { name: 'checkout', newTag: sha, digest, newName: 'other.test/checkout' }),
    ).toContain('newName: other.test/checkout\n');
  });

  it('refuses an overlay without an images: entry for the service, in one line', () => {
    const file = 'apps/checkout/overlays/dev/kustomization.yaml';
    const attempt = () =>
      bumpImage(
        'images:\n  - name: cart\n    newTag: x\n',
        { name: 'checkout', newTag: sha, digest },
        file,
      );

    expect(attempt).toThrow(ImageBumpError);
    expect(attempt).toThrow(`${file} has no images: entry named checkout`);
    expect(() => bumpImage('resources: [a]\n', { name: 'checkout', newTag: sha, digest })).toThrow(
      /no images: entry/,
    );
  });

  it('refuses a file that is not YAML', () => {
    expect(() => bumpImage('images: [\n', { name: 'c', newTag: sha, digest })).toThrow(
      expect.objectContaining({ code: 'KUSTOMIZATION_INVALID' }),
    );
  });
});
