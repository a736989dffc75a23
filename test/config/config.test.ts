import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';

const minimal = `
apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: acme
environments:
  - name: prod
    order: 1
    cluster: main
    production: true
clusters:
  main: { type: sandbox }
`;

describe('changeproof.yaml', () => {
  it('fills governance and adapter defaults', () => {
    const config = parseConfig(minimal);
    expect(config.environments[0]!.governance).toMatchObject({
      approvals: 1,
      selfHeal: true,
      emergencyReviewWindow: '72h',
    });
    expect(config.adapters).toMatchObject({
      forge: 'embedded',
      changeSystem: 'embedded',
      secrets: 'embedded',
      registry: 'embedded',
      cdEngine: 'builtin',
      identity: 'local',
    });
  });

  it('refuses an unknown key with its path and a hint', () => {
    const text = minimal.replace(
      '    production: true',
      '    production: true\n    governance: { aprovals: 2 }',
    );
    expect(() => parseConfig(text, 'ws/changeproof.yaml')).toThrow(
      "ws/changeproof.yaml: environments.0.governance: unknown key 'aprovals'; check the spelling against the README",
    );
  });

  it('refuses a bad value with its path', () => {
    const text = minimal.replace('order: 1', 'order: -3');
    expect(() => parseConfig(text)).toThrow(/environments\.0\.order: /);
  });

  it('refuses an environment on an undefined cluster', () => {
    expect(() => parseConfig(minimal.replace('cluster: main', 'cluster: other'))).toThrow(
      /environments\.0\.cluster: cluster other is not defined under clusters/,
    );
  });

  it('refuses malformed YAML in one line', () => {
    const error = (() => {
      try {
        parseConfig('name: [unclosed', 'x.yaml');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/^x\.yaml: not valid YAML: /);
    expect(error?.message.includes('\n')).toBe(false);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i += 1)
      levels.push(
        `l${i}: &l${i} [${Array(9)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      );
    expect(() => parseConfig(levels.join('\n'))).toThrow(/not valid YAML/);
  });

  it('refuses duplicate keys, which YAML parsers otherwise resolve silently', () => {
    expect(() => parseConfig(`${minimal}\nname: other\n`)).toThrow(/not valid YAML/);
  });
});
