import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { keyIdOf, loadPublicKeyPem } from '../../src/embedded/secret-broker/keys.ts';
import { openWorkspace } from '../../src/workspace/context.ts';
import { runCli } from '../support/cli.ts';
import { EvidenceRecorder } from '../support/evidence-fixtures.ts';

const RANGE = ['--from', '2026-07-01', '--to', '2026-09-30'];

describe('changeproof audit and metrics (the binary)', () => {
  let base: string;
  let ws: string;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'changeproof-audit-cli-'));
    ws = join(base, 'ws');
    expect(runCli(['init', ws]).status).toBe(0);
    const workspace = await openWorkspace(ws);
    const pipelineKey = keyIdOf(loadPublicKeyPem(workspace.paths.keysDir, 'pipeline'));
    const recorder = new EvidenceRecorder(
      workspace.store,
      new Date('2026-07-02T09:00:00Z'),
      undefined,
      pipelineKey,
    );
    await recorder.deployment(1);
    await recorder.deployment(2, { drift: true });
    await recorder.deployment(3, { selfApprovalBreakGlass: true });
    await workspace.close();
  }, 60_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('lists deployments as a table, JSON and CSV', () => {
    const table = runCli(['audit', 'deployments', '-w', ws, '--env', 'prod', ...RANGE]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^DEPLOYMENT\s+DEPLOYED AT\s+CHANGE\s+APPROVERS/);
    expect(table.stdout).toContain('prod/checkout/1');
    const json = JSON.parse(
      runCli(['audit', 'deployments', '-w', ws, ...RANGE, '-o', 'json']).stdout,
    );
    expect(json).toHaveLength(3);
    const csv = runCli(['audit', 'deployments', '-w', ws, ...RANGE, '-o', 'csv']).stdout;
    expect(csv.split('\r\n')[0]).toMatch(/^deployment,source,env,service/);
  });

  it('lists deployments as YAML: the same answer as JSON, as a YAML document', () => {
    const yaml = runCli(['audit', 'deployments', '-w', ws, ...RANGE, '-o', 'yaml']);
    expect(yaml.status).toBe(0);
    expect(yaml.stdout).toMatch(/^- id: prod\/checkout\/1\n/);
    const json = runCli(['audit', 'deployments', '-w', ws, ...RANGE, '-o', 'json']).stdout;
    const answer = parseYaml(yaml.stdout) as { id: string; approval: { approvals: unknown[] } }[];
    expect(answer).toEqual(JSON.parse(json));
    expect(answer.map((d) => d.id)).toEqual([
      'prod/checkout/1',
      'prod/checkout/2',
      'prod/checkout/3',
    ]);
    expect(answer[2]!.approval.approvals).toMatchObject([
      { identity: 'alice', roles: ['developer', 'oncall'], source: 'break-glass' },
    ]);
  });

  it('lists control failures with their evidence', () => {
    const result = runCli(['audit', 'controls', '-w', ws, ...RANGE, '-o', 'json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.failures.map((f: { control: string }) => f.control)).toEqual(
      expect.arrayContaining(['CP-01', 'CP-02']),
    );
  });

  it('exports a pack with -o that verifies, and rejects it after one changed byte', () => {
    const pack = join(base, 'pack.zip');
    const exported = runCli([
      'audit',
      'export',
      '-w',
      ws,
      '--env',
      'prod',
      ...RANGE,
      '-o',
      pack,
      '--no-pdf',
    ]);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toMatch(/wrote .*pack\.zip: 3 deployment\(s\)/);
    const verified = runCli(['audit', 'verify', pack]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/pack intact/);
    expect(verified.stderr).toMatch(
      /compare it with the organisation's published control-plane key/,
    );
    const bytes = readFileSync(pack);
    const at = bytes.indexOf('"deployedAt"') + 4;
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(pack, bytes);
    const rejected = runCli(['audit', 'verify', pack]);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toMatch(/pack does not verify: FILE_ALTERED/);
  });

  it('draws a sample and computes DORA', () => {
    const sample = runCli([
      'audit',
      'sample',
      '-w',
      ws,
      ...RANGE,
      '--size',
      '2',
      '--seed',
      'abc',
      '-o',
      'json',
    ]);
    expect(JSON.parse(sample.stdout)).toMatchObject({
      populationSize: 3,
      sampleSize: 2,
      seed: 'abc',
    });
    const dora = runCli(['metrics', 'dora', '-w', ws, '--env', 'prod', ...RANGE]);
    expect(dora.status).toBe(0);
    expect(dora.stdout).toMatch(/weekly trend/);
  });

  it('gives one-line usage errors for bad ranges and formats', () => {
    const inverted = runCli([
      'audit',
      'deployments',
      '-w',
      ws,
      '--from',
      '2026-09-30',
      '--to',
      '2026-07-01',
    ]);
    expect(inverted.status).toBe(2);
    expect(inverted.stderr).toMatch(/is not before --to/);
    const empty = runCli([
      'audit',
      'deployments',
      '-w',
      ws,
      '--from',
      '2025-01-01',
      '--to',
      '2025-01-31',
    ]);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/no deployments in/);
    expect(runCli(['audit', 'export', '-w', ws, ...RANGE, '-o', 'pack.tar']).status).toBe(2);
    expect(runCli(['ledger', 'list', '-w', ws, '-o', 'xml']).status).toBe(2);
  });
});
