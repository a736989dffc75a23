import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { runCli } from '../../support/cli.ts';

describe('changeproof github protection', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-protection-'));
  const ws = join(root, 'ws');
  beforeAll(async () => {
    await initWorkspace({ dir: ws, name: 'protect' });
    // prod asks for three approvals of a non-routine change: the strictest environment decides.
    const configFile = join(ws, 'changeproof.yaml');
    const document = parseDocument(readFileSync(configFile, 'utf8'));
    const environments = document.get('environments') as { items: { toJSON(): object }[] };
    const prod = environments.items.findIndex(
      (item) => (item.toJSON() as { name: string }).name === 'prod',
    );
    document.setIn(['environments', prod, 'governance', 'nonRoutineApprovals'], 3);
    writeFileSync(configFile, document.toString());
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints the ruleset for main with the strictest approval count and changeproof checks', () => {
    const result = runCli(['-w', ws, 'github', 'protection']);
    expect(result.status, result.stderr).toBe(0);

    const ruleset = JSON.parse(result.stdout);
    expect(ruleset).toMatchObject({
      name: 'changeproof-main',
      target: 'branch',
      enforcement: 'active',
      bypass_actors: [],
      conditions: { ref_name: { include: ['refs/heads/main'] } },
    });
    const rule = (type: string) => ruleset.rules.find((r: { type: string }) => r.type === type);
    expect(rule('pull_request').parameters).toMatchObject({
      required_approving_review_count: 3,
      dismiss_stale_reviews_on_push: true,
      require_last_push_approval: true,
    });
    expect(rule('required_status_checks').parameters.required_status_checks).toEqual([
      { context: 'changeproof/change-approved' },
      { context: expect.stringMatching(/^changeproof\//) },
    ]);
    for (const type of ['deletion', 'non_fast_forward', 'required_signatures'])
      expect(rule(type), type).toBeDefined();
  });

  it('prints the classic branch protection body with --format branch-protection', () => {
    const result = runCli(['-w', ws, 'github', 'protection', '--format', 'branch-protection']);
    expect(result.status, result.stderr).toBe(0);

    const protection = JSON.parse(result.stdout);
    expect(protection).toMatchObject({
      enforce_admins: true,
      allow_force_pushes: false,
      allow_deletions: false,
      required_pull_request_reviews: {
        required_approving_review_count: 3,
        dismiss_stale_reviews: true,
        require_last_push_approval: true,
      },
      required_status_checks: { strict: true },
    });
    expect(protection.required_status_checks.contexts).toContain('changeproof/change-approved');
  });

  it('lets the on-call team bypass the ruleset on pull requests with --bypass-team-id', () => {
    const result = runCli(['-w', ws, 'github', 'protection', '--bypass-team-id', '4242']);
    expect(result.status, result.stderr).toBe(0);

    expect(JSON.parse(result.stdout).bypass_actors).toEqual([
      { actor_id: 4242, actor_type: 'Team', bypass_mode: 'pull_request' },
    ]);
  });

  it('refuses a bypass team for the classic branch protection, which has no bypass actors', () => {
    const result = runCli([
      '-w',
      ws,
      'github',
      'protection',
      '--format',
      'branch-protection',
      '--bypass-team-id',
      '4242',
    ]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--format ruleset/);
  });

  it('refuses a team id that is not a number', () => {
    const result = runCli(['-w', ws, 'github', 'protection', '--bypass-team-id', 'sre']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/numeric team id/);
  });

  it('refuses an unknown format as a usage error, printing nothing on stdout', () => {
    const result = runCli(['-w', ws, 'github', 'protection', '--format', 'gitlab']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/gitlab/);
    expect(result.stderr).toMatch(/ruleset, branch-protection/);
  });

  it('refuses outside a workspace in one line', () => {
    const result = runCli(['github', 'protection'], { cwd: root });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
