import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { git } from '../../src/gitops/git.ts';
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

  it('the Jenkins step passes --scan-policy only when the caller set scanPolicy', () => {
    const text = readFileSync(
      join(repoRoot, 'deploy/jenkins/vars/regulatedDelivery.groovy'),
      'utf8',
    );

    const alwaysPassed = /def flags = \[([\s\S]*?)\n\s*\]/.exec(text)?.[1];
    expect(alwaysPassed).toContain("'--service'");
    expect(alwaysPassed).not.toContain('--scan-policy');
    expect(text).toMatch(/^\s*if \(scanPolicy\) flags \+= \['--scan-policy', scanPolicy\]$/m);
    expect(text).toMatch(/^\s*def scanPolicy = args\.scanPolicy$/m);
  });
});

/** The parts of action.yml the run-step tests read. */
interface ActionInputs {
  inputs: Record<string, { default?: string }>;
  runs: { steps: { id?: string; run?: string; env?: Record<string, string> }[] };
}

describe('the GitHub Action run step', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-action-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as ActionInputs;
  const step = action.runs.steps.find((candidate) => candidate.id === 'deliver')!;

  /**
   * Runs the step's script with bash as the runner would, the inputs resolved as GitHub does;
   * the action's CLI is a stand-in that records its arguments and prints a delivery result.
   */
  async function runStep(given: Record<string, string>): Promise<string[]> {
    const dir = mkdtempSync(join(root, 'run-'));
    const source = join(dir, 'source');
    mkdirSync(source);
    await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: source });
    mkdirSync(join(dir, 'action', 'bin'), { recursive: true });
    const argsFile = join(dir, 'argv.json');
    const result = { image: 'r/x@sha256:1', proposal: { id: '1' } };
    writeFileSync(
      join(dir, 'action', 'bin', 'changeproof.mjs'),
      `import { writeFileSync } from 'node:fs';\n` +
        `writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));\n` +
        `process.stdout.write(${JSON.stringify(JSON.stringify(result))});\n`,
    );
    const inputs: Record<string, string> = {
      source,
      'workspace-config': 'name: x',
      'database-url': 'sqlite:x',
      ...given,
    };
    const env: Record<string, string> = {};
    for (const [name, expression] of Object.entries(step.env ?? {})) {
      const input = /^\$\{\{ inputs\.([a-z-]+) \}\}$/.exec(expression)?.[1];
      if (input) env[name] = inputs[input] ?? action.inputs[input]?.default ?? '';
    }

    const run = spawnSync('bash', ['-c', step.run!], {
      env: {
        PATH: process.env.PATH!,
        HOME: dir,
        RUNNER_TEMP: dir,
        GITHUB_ACTION_PATH: join(dir, 'action'),
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        ...env,
      },
      encoding: 'utf8',
    });

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(readFileSync(argsFile, 'utf8')) as string[];
  }

  it("leaves the scan policy to the service's configuration when the input is not set", async () => {
    const argv = await runStep({ service: 'checkout', env: 'dev' });

    expect(argv).toEqual(expect.arrayContaining(['deliver', '--service', 'checkout']));
    expect(argv).not.toContain('--scan-policy');
  });

  it('passes the scan policy the workflow asked for', async () => {
    const argv = await runStep({ service: 'checkout', env: 'dev', 'scan-policy': 'block-high' });

    const at = argv.indexOf('--scan-policy');
    expect(argv.slice(at, at + 2)).toEqual(['--scan-policy', 'block-high']);
  });
});
