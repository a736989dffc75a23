import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ServiceNowChangeSystem } from '../../../src/adapters/servicenow/index.ts';
import { recordEvidence } from '../../../src/domain/evidence.ts';
import { openWorkspace } from '../../../src/workspace/context.ts';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { ServiceNowEmulator } from '../../emulators/servicenow/server.ts';
import { runCli, startCli, type CliResult } from '../../support/cli.ts';

/*
 * `changeproof change reconcile` against the ServiceNow emulator: a record edited in ServiceNow
 * after changeproof recorded it is reported as a finding naming the ledger entry that stands,
 * the command fails the check, and the ledger is left exactly as it was.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-reconcile-'));
const dir = join(root, 'ws');
const servicenow = new ServiceNowEmulator({ changeproof: 'sn-password' });
const env = { SERVICENOW_USER: 'changeproof', SERVICENOW_PASSWORD: 'sn-password' };
let number: string;
let openedSeq: number;

beforeAll(async () => {
  await initWorkspace({ dir, name: 'reconcile' });
  await servicenow.start();
  const configFile = join(dir, 'changeproof.yaml');
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  document.set('adapters', {
    changeSystem: 'servicenow',
    servicenow: { instanceUrl: servicenow.url },
  });
  writeFileSync(configFile, document.toString());

  // The change as changeproof opened it, with the snapshot change management records.
  const system = new ServiceNowChangeSystem({
    instanceUrl: servicenow.url,
    credentials: { kind: 'basic', user: 'changeproof', password: 'sn-password' },
  });
  const evidence = { artifact: 'reg/checkout@sha256:bb', sbomDigest: 'sha256:cc' };
  const change = await system.open({
    type: 'normal',
    proposal: '3',
    service: 'checkout',
    env: 'prod',
    shortDescription: 'checkout v2',
    description: 'image bump',
    evidence: { ...evidence, signer: 'pipeline', scanVerdict: 'pass' },
    cabRequired: true,
  });
  number = change.number;
  const ws = await openWorkspace(dir, { env });
  try {
    const opened = await recordEvidence(ws.ledger, 'change.opened', `change:${number}`, 'system', {
      change: number,
      type: 'normal',
      proposal: '3',
      service: 'checkout',
      env: 'prod',
      ...evidence,
      signer: 'pipeline',
      scanVerdict: 'pass',
    });
    openedSeq = opened.seq;
  } finally {
    await ws.close();
  }
}, 60_000);

afterAll(async () => {
  await servicenow.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The real binary, run without blocking this process: the emulator answers from here. */
function reconcile(...args: string[]): Promise<CliResult> {
  const child = startCli(['change', 'reconcile', ...args, '--workspace', dir, '--output', 'json'], {
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr })),
  );
}

async function ledgerHead() {
  const ws = await openWorkspace(dir, { env });
  try {
    return await ws.ledger.head();
  } finally {
    await ws.close();
  }
}

describe('changeproof change reconcile', () => {
  it('passes while ServiceNow holds what the ledger recorded', async () => {
    const result = await reconcile();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('reports a record edited in ServiceNow as findings with their evidence, ledger unchanged', async () => {
    const before = await ledgerHead();
    servicenow.edit('change_request', number, { u_artifact_digest: 'reg/checkout@sha256:evil' });
    servicenow.approve(number, 'mallory');

    const result = await reconcile(number);

    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        change: number,
        field: 'artifact',
        ledger: 'reg/checkout@sha256:bb',
        live: 'reg/checkout@sha256:evil',
        evidence: openedSeq,
      }),
      expect.objectContaining({ change: number, field: 'approvals', ledger: '', live: 'mallory' }),
    ]);
    expect(result.stderr).toContain('the ledger snapshot stands');
    expect(await ledgerHead()).toEqual(before);
  });

  it('refuses a workspace whose change system is not ServiceNow, with a usage exit', async () => {
    const plain = join(root, 'plain');
    await initWorkspace({ dir: plain, name: 'plain' });
    const result = runCli(['change', 'reconcile', '--workspace', plain]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('select adapters.changeSystem: servicenow');
  });
});
