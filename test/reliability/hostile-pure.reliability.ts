import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { bumpImage } from '../../src/gitops/image-bump.ts';
import { expectClearError } from './support/bounded.ts';
import { figures, report } from './support/row.ts';
import { SEED } from './support/prng.ts';

const RUNS = 400;

/** Text that looks like YAML often enough to get past the parser: mappings, lists, junk. */
const yamlish = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => stringify(value)),
  fc
    .dictionary(
      fc.constantFrom(
        'apiVersion',
        'kind',
        'name',
        'environments',
        'clusters',
        'database',
        'images',
      ),
      fc.jsonValue({ maxDepth: 3 }),
    )
    .map((value) => stringify(value)),
);

const hostileName = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('../../etc/passwd', '..', 'a/../../b', '%2e%2e/x', 'checkout\nnewName: evil', ''),
);

describe('hostile input: configuration and kustomization editing', () => {
  it('answers any changeproof.yaml with a config or a one-line error', (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} generated changeproof.yaml files (junk, YAML of random values, near-configs), seed ${SEED}`,
    });
    let refused = 0;
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseConfig(text);
        } catch (error) {
          expectClearError(error);
          refused += 1;
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    figures(context, { refused, accepted: RUNS - refused });
  });

  it('edits an overlay or refuses in one line, whatever the overlay and the names', (context) => {
    report(context, {
      area: 'Hostile input',
      tried: `${RUNS} kustomization image edits on generated overlays with hostile names and tags, seed ${SEED}`,
    });
    const overlay = fc.oneof(
      yamlish,
      fc
        .record({ name: hostileName, tag: fc.string({ maxLength: 20 }) })
        .map(
          ({ name, tag }) =>
            `images:\n  - name: ${JSON.stringify(name)}\n    newTag: ${JSON.stringify(tag)}\n`,
        ),
    );
    const bump = fc.record({
      name: hostileName,
      newTag: fc.string({ maxLength: 40 }),
      digest: fc.oneof(fc.string({ maxLength: 80 }), fc.constant(`sha256:${'a'.repeat(64)}`)),
    });
    let refused = 0;
    fc.assert(
      fc.property(overlay, bump, (text, edit) => {
        try {
          const edited = bumpImage(text, edit);
          // An accepted edit still parses and names the requested image.
          expect(edited).toContain('images');
        } catch (error) {
          expectClearError(error);
          refused += 1;
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    figures(context, { refused, edited: RUNS - refused });
  });
});
