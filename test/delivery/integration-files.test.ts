import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deliverCommand } from '../../src/cli/commands/deliver.ts';
import { repoRoot } from '../support/cli.ts';

const deliverFlags = new Set(deliverCommand().options.map((option) => option.long));
const flagsIn = (text: string) =>
  [...new Set(text.match(/'?--[a-z][a-z-]+/g) ?? [])].map((f) => f.replace(/^'/, ''));

describe('integration files', () => {
  it('the GitHub Action is valid YAML whose deliver flags the CLI knows', () => {
    const text = readFileSync(join(repoRoot, 'action.yml'), 'utf8');
    const action = parse(text) as { inputs: Record<string, unknown>; runs: { using: string } };

    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining(['service', 'env', 'config-repo', 'scan-policy']),
    );
    const used = flagsIn(text).filter(
      (flag) => !['--workspace', '--database', '--omit', '--no-audit', '--no-fund'].includes(flag),
    );
    expect(used).toEqual(
      expect.arrayContaining(['--service', '--env', '--scan-policy', '--sarif']),
    );
    expect(used.filter((flag) => !deliverFlags.has(flag))).toEqual([]);
  });

  it('the Jenkins step passes only flags the CLI knows and mounts no service account token', () => {
    const text = readFileSync(
      join(repoRoot, 'deploy/jenkins/vars/regulatedDelivery.groovy'),
      'utf8',
    );

    const used = flagsIn(text).filter((flag) => !['--workspace', '--database'].includes(flag));
    expect(used).toEqual(
      expect.arrayContaining(['--service', '--env', '--config-repo', '--scan-policy']),
    );
    expect(used.filter((flag) => !deliverFlags.has(flag))).toEqual([]);
    expect(text).toContain('automountServiceAccountToken: false');
  });
});
