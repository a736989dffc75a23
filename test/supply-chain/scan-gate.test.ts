import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CycloneDxBom } from '../../src/supply-chain/sbom/index.ts';
import { npmPurl } from '../../src/supply-chain/sbom/index.ts';
import {
  loadAdvisories,
  parseSarif,
  parseScanExceptions,
  parseScanPolicy,
  runScanGate,
  type OsvAdvisory,
  type ScanException,
} from '../../src/supply-chain/scan/index.ts';
import { fixturesDir, repoRoot, sharedPath } from './helpers/paths.ts';
import { sarifValidator } from './helpers/schemas.ts';

const now = new Date('2025-06-01T00:00:00Z');
let advisories: OsvAdvisory[];

beforeAll(async () => {
  advisories = [
    ...(await loadAdvisories(sharedPath('advisories'))),
    ...(await loadAdvisories(join(repoRoot, 'fixtures', 'advisories'))),
  ];
});

function bomWith(...packages: [string, string][]): CycloneDxBom {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    version: 1,
    metadata: {
      tools: { components: [] },
      component: { type: 'container', name: 'registry.test/app' },
    },
    components: packages.map(([name, version]) => ({
      type: 'library',
      name,
      version,
      purl: npmPurl(name, version),
    })),
  };
}

const exception = (overrides: Partial<ScanException> = {}): ScanException => ({
  id: 'GHSA-xvch-5gv4-984h',
  reason: 'minimist is only used by a build script that is not shipped',
  approver: 'security@example.test',
  expires: '2025-07-01T00:00:00Z',
  ...overrides,
});

describe('runScanGate', () => {
  it('blocks minimist 1.2.5 under the default block-critical policy', () => {
    const result = runScanGate({ sbom: bomWith(['minimist', '1.2.5']), advisories, now });
    expect(result.verdict).toBe('blocked');
    expect(result.policy).toBe('block-critical');
    expect(result.counts).toEqual({ critical: 1, high: 0, medium: 0, low: 0 });
    expect(result.findings[0]).toMatchObject({
      id: 'GHSA-xvch-5gv4-984h',
      location: { purl: 'pkg:npm/minimist@1.2.5' },
    });
  });

  it('passes minimist 1.2.6', () => {
    const result = runScanGate({ sbom: bomWith(['minimist', '1.2.6']), advisories, now });
    expect(result).toMatchObject({
      verdict: 'pass',
      findings: [],
      counts: { critical: 0, high: 0 },
    });
  });

  it('passes a high finding under block-critical and blocks it under block-high', () => {
    const sbom = bomWith(['lodash', '4.17.20']);
    expect(runScanGate({ sbom, advisories, now }).verdict).toBe('pass');
    expect(runScanGate({ sbom, advisories, now, policy: 'block-high' }).verdict).toBe('blocked');
    expect(
      runScanGate({ sbom: bomWith(['minimist', '1.2.5']), advisories, now, policy: 'warn' })
        .verdict,
    ).toBe('pass');
  });

  it('lets an approved, unexpired exception cover a critical finding and reports it', () => {
    const result = runScanGate({
      sbom: bomWith(['minimist', '1.2.5']),
      advisories,
      now,
      exceptions: [exception()],
    });
    expect(result.verdict).toBe('pass');
    expect(result.counts.critical).toBe(0);
    expect(result.findings[0]?.exceptedBy).toBe('GHSA-xvch-5gv4-984h');
    expect(result.exceptionsApplied).toEqual([{ ...exception(), findings: 1 }]);
    expect(result.exceptionsExpired).toEqual([]);
  });

  it('stops counting an expired exception, so the finding blocks again', () => {
    const expired = exception({ expires: '2025-05-31T23:59:59Z' });
    const result = runScanGate({
      sbom: bomWith(['minimist', '1.2.5']),
      advisories,
      now,
      exceptions: [expired],
    });
    expect(result.verdict).toBe('blocked');
    expect(result.exceptionsApplied).toEqual([]);
    expect(result.exceptionsExpired).toEqual([expired]);
  });

  it('refuses an exception without an approver', () => {
    const attempt = () =>
      runScanGate({
        sbom: bomWith(['minimist', '1.2.5']),
        advisories,
        now,
        exceptions: [exception({ approver: '' })],
      });
    expect(attempt).toThrow(expect.objectContaining({ code: 'EXCEPTION_INVALID' }));
    expect(attempt).toThrow(
      'scan exception 1 (GHSA-xvch-5gv4-984h) has no approver; every exception needs id, reason, approver and expires',
    );
    expect(() =>
      parseScanExceptions([{ id: 'X', reason: 'r', approver: 'a', expires: 'soon' }]),
    ).toThrow(/is not a date/);
  });

  it('blocks on the demo advisory for the greeter and on manifest rules, and writes valid SARIF', () => {
    const externalFindings = parseSarif(
      readFileSync(join(fixturesDir, 'sarif', 'external-scanner.sarif'), 'utf8'),
      'ext.sarif',
    );
    const manifests = [
      {
        kind: 'Pod',
        metadata: { name: 'debug' },
        spec: {
          containers: [{ name: 'sh', image: 'busybox', securityContext: { privileged: true } }],
        },
      },
    ];
    const result = runScanGate({
      sbom: bomWith(
        ['@changeproof-demo/greeter', '1.0.0'],
        ['@changeproof-demo/templates', '0.4.1'],
      ),
      advisories,
      manifests,
      externalFindings,
      now,
    });

    expect(result.verdict).toBe('blocked');
    expect(result.findings.map((f) => f.id)).toEqual(
      expect.arrayContaining([
        'x_CPDEMO-2025-0001',
        'x_CPDEMO-2025-0003',
        'K8S-PRIVILEGED',
        'js/sql-injection',
      ]),
    );
    expect(result.sarif.runs.map((run) => run.tool.driver.name)).toEqual([
      'changeproof-osv',
      'changeproof-manifest-rules',
      'example-sast',
    ]);

    const validate = sarifValidator();
    const valid = validate(JSON.parse(JSON.stringify(result.sarif)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(validate({ ...result.sarif, version: '2.0.0' })).toBe(false);
  });

  it('refuses an unknown policy name', () => {
    expect(parseScanPolicy(undefined)).toBe('block-critical');
    expect(() => parseScanPolicy('block-everything')).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
  });
});

describe('parseSarif', () => {
  it('maps security-severity first, then the result or rule level, and drops level none', () => {
    const findings = parseSarif(
      readFileSync(join(fixturesDir, 'sarif', 'external-scanner.sarif'), 'utf8'),
      'ext.sarif',
    );
    expect(findings.map((f) => [f.id, f.severity, f.tool])).toEqual([
      ['js/sql-injection', 'critical', 'example-sast'],
      ['js/weak-hash', 'medium', 'example-sast'],
      ['js/weak-hash', 'high', 'example-sast'],
      ['js/todo-comment', 'low', 'example-sast'],
    ]);
    expect(findings[0]).toMatchObject({
      score: 9.1,
      location: { uri: 'src/orders.js' },
      title: 'SQL built from user input',
    });
  });

  it('refuses a file that is not SARIF 2.1.0, naming it', () => {
    expect(() => parseSarif('{"version":"2.0.0","runs":[]}', 'scan.sarif')).toThrow(
      'SARIF file scan.sarif is not SARIF 2.1.0 (version, runs[])',
    );
    expect(() => parseSarif('nope', 'scan.sarif')).toThrow(
      expect.objectContaining({ code: 'SARIF_INVALID' }),
    );
  });
});
