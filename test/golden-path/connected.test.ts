import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { signWebhook } from '../../src/adapters/github/index.ts';
import { GithubForge } from '../../src/adapters/github/index.ts';
import { ServiceNowChangeSystem } from '../../src/adapters/servicenow/index.ts';
import { VaultSecretBroker } from '../../src/adapters/vault/index.ts';
import { changeManagementFor } from '../../src/change/index.ts';
import { demoAppDir } from '../../src/delivery/defaults.ts';
import { deliverDemoService } from '../../src/delivery/demo.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { createLogger } from '../../src/log.ts';
import { startControlPlane, type ControlPlane } from '../../src/server/control-plane.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { startCli } from '../support/cli.ts';
import { DatadogEmulator } from '../emulators/datadog/server.ts';
import { GithubEmulator } from '../emulators/github/server.ts';
import { ServiceNowEmulator } from '../emulators/servicenow/server.ts';
import { VaultEmulator } from '../emulators/vault/server.ts';

/*
 * The golden path in connected mode: changeproof.yaml selects GitHub, ServiceNow and Vault (each
 * against its emulator), the registry and the sandbox clusters stay embedded. The real pipeline
 * proposes, people approve through changeproof, GitHub merges, the built-in CD engine syncs, and
 * the ServiceNow change record closes once the live state is verified.
 */
const root = mkdtempSync(join(tmpdir(), 'changeproof-connected-'));
const githubTokens = {
  'tok-control-plane': 'changeproof-bot',
  'tok-alice': 'alice',
  'tok-carol': 'carol',
};
const env = {
  GITHUB_TOKEN: 'tok-control-plane',
  GITHUB_TOKEN_ALICE: 'tok-alice',
  GITHUB_TOKEN_CAROL: 'tok-carol',
  GITHUB_WEBHOOK_SECRET: 'hook-secret',
  SERVICENOW_USER: 'changeproof',
  SERVICENOW_PASSWORD: 'sn-password',
  DD_API_KEY: 'dd-key',
};
const servicenow = new ServiceNowEmulator({ changeproof: 'sn-password' });
const vault = new VaultEmulator({ changeproof: ['sa-token'] });
const datadog = new DatadogEmulator('dd-key');
let github: GithubEmulator;
let ws: WorkspaceContext;
let plane: ControlPlane;

/** Selects the connected adapters in the workspace's changeproof.yaml. */
function selectConnectedAdapters(configFile: string, configRepo: string): void {
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  document.set('adapters', {
    forge: 'github',
    changeSystem: 'servicenow',
    secrets: 'vault',
    sinks: ['datadog'],
    github: { owner: 'acme', repo: 'config', apiUrl: github.url, cloneUrl: configRepo },
    servicenow: { instanceUrl: servicenow.url },
    vault: {
      address: vault.url,
      role: 'changeproof',
      serviceAccountTokenPath: join(root, 'sa-token'),
    },
    datadog: { apiUrl: datadog.url },
  });
  writeFileSync(configFile, document.toString());
}

beforeAll(async () => {
  const dir = join(root, 'ws');
  await initWorkspace({ dir, name: 'connected' });
  // GitHub hosts the config repo: the emulator serves the workspace's bare repo.
  github = new GithubEmulator('acme', 'config', githubTokens, {
    gitDir: join(dir, 'config-repo.git'),
  });
  await Promise.all([github.start(), servicenow.start(), vault.start(), datadog.start()]);
  vault.createKey('changeproof-pipeline');
  vault.createKey('changeproof-control-plane');
  writeFileSync(join(root, 'sa-token'), 'sa-token\n');
  selectConnectedAdapters(join(dir, 'changeproof.yaml'), join(dir, 'config-repo.git'));

  ws = await openWorkspace(dir, { env });
  plane = await startControlPlane(ws, {
    logger: createLogger({ level: 'silent' }),
    port: 0,
    checkpointIntervalMs: 0,
    sinkIntervalMs: 100,
  });
}, 120_000);

afterAll(async () => {
  await plane?.close();
  await ws?.close();
  await Promise.all([github.stop(), servicenow.stop(), vault.stop(), datadog.stop()]);
  rmSync(root, { recursive: true, force: true });
});

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the golden path with GitHub, ServiceNow and Vault', () => {
  it('wires the adapters changeproof.yaml selects into the workspace', () => {
    const changes = changeManagementFor(ws);
    expect(changes.forge).toBeInstanceOf(GithubForge);
    expect(changes.context.changeSystem).toBeInstanceOf(ServiceNowChangeSystem);
    expect(ws.broker).toBeInstanceOf(VaultSecretBroker);
    expect(ws.controlPlanePublicKey).toBe(
      vault.keys.get('changeproof-control-plane')?.publicKeyPem,
    );
  });

  it('proposes, approves, merges on GitHub, syncs and closes the ServiceNow change', async () => {
    const changes = changeManagementFor(ws);
    const base = plane.endpoints.find((e) => e.name === 'control-plane')!.url;

    // 1. The pipeline: image signed through Vault transit, proposal as a GitHub pull request.
    const delivered = await deliverDemoService(ws, { env: 'prod' });
    const pull = github.pulls.get(Number(delivered.proposal.id))!;
    expect(pull).toMatchObject({ user: { login: 'alice' }, state: 'open' });
    expect(pull.head.sha).toBe(delivered.proposal.commit);

    // 2. The change record opened in ServiceNow, linked to the artifact.
    const change = await until(
      () => changes.context.changeSystem.findByProposal(delivered.proposal.id),
      'the ServiceNow change',
    );
    const row = servicenow.tables.get('change_request')!.find((r) => r.number === change.number)!;
    expect(row.description).toContain(delivered.digest);

    // 3. Carol (CAB) approves over HTTP: a GitHub review under her own token, a ServiceNow approval.
    const token = (await changes.identity.issue('carol')).token;
    const approved = await fetch(`${base}/api/v1/proposals/${delivered.proposal.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commit: delivered.proposal.commit }),
    });
    expect(approved.status).toBe(200);
    expect(((await approved.json()) as { gate: { state: string } }).gate.state).toBe('success');
    expect(github.reviews.get(pull.number)?.[0]).toMatchObject({
      user: { login: 'carol' },
      state: 'APPROVED',
      commit_id: pull.head.sha,
    });
    expect(github.statuses.get(pull.head.sha)).toContainEqual(
      expect.objectContaining({ context: 'changeproof/change-approved', state: 'success' }),
    );

    // 4. Merge through GitHub's merge API; main moves in the repository GitHub hosts.
    const alice = await changes.identity.authenticate(
      (await changes.identity.issue('alice')).token,
    );
    const merged = await changes.service.merge(alice, delivered.proposal.id);
    expect(pull.merged).toBe(true);
    const [mergeEntry] = await ws.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${delivered.proposal.id}`,
    });
    expect(mergeEntry?.payload).toMatchObject({
      mergeCommit: merged.mergeCommit,
      approvals: [expect.objectContaining({ reviewer: 'carol', commit: pull.head.sha })],
      change: change.number,
    });

    // 5. The CD engine syncs the merge commit; the change moves to Review and closes.
    plane.cdEngine!.notifyMerged();
    const sync = await until(async () => {
      const entries = await ws.ledger.list({ kind: 'sync.completed' });
      return entries.find((e) => e.payload.configCommit === merged.mergeCommit);
    }, 'the sync of the merge commit');
    expect(sync.payload).toMatchObject({ app: 'prod/checkout' });
    const closed = await until(async () => {
      const record = servicenow.tables
        .get('change_request')!
        .find((r) => r.number === change.number);
      return record?.state === '3' ? record : undefined;
    }, 'the change to close');
    expect(closed.close_code).toBeTruthy();

    // 6. The sink hears of the deployment (forwarded from the ledger on an interval).
    await until(
      async () => (datadog.events.length > 0 ? datadog.events : undefined),
      'the Datadog deployment marker',
    );
  }, 180_000);

  it('delivers from the command line a CI job runs, as a pull request on GitHub', async () => {
    // The source checkout a Jenkins or GitHub Actions job would have, with one commit.
    const source = join(root, 'app');
    cpSync(demoAppDir, source, { recursive: true, filter: (path) => !path.endsWith('junit.xml') });
    await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: source });
    await git(['add', '--all'], { cwd: source });
    await git([...identityArgs('alice', 'alice@example.test'), 'commit', '-qm', 'Release'], {
      cwd: source,
    });
    const pullsBefore = github.pulls.size;

    // Asynchronously: the emulators it talks to serve from this process.
    const child = startCli(
      ['deliver', '--service', 'checkout', '--env', 'dev', '--source', source, '--author', 'alice'],
      { env: { ...env, CHANGEPROOF_WORKSPACE: ws.paths.root } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);

    const result = JSON.parse(stdout) as { proposal: { id: string; commit: string } };
    expect(github.pulls.size).toBe(pullsBefore + 1);
    const pull = github.pulls.get(Number(result.proposal.id))!;
    expect(pull).toMatchObject({ state: 'open', head: { sha: result.proposal.commit } });
    const completed = await ws.ledger.list({ kind: 'delivery.completed' });
    expect(completed.filter((e) => e.payload.proposal === result.proposal.id)).toHaveLength(1);
  }, 120_000);

  it('takes GitHub webhooks on the raw body: a wrong signature is refused and recorded', async () => {
    const base = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const post = (signature: string, delivery: string) =>
      fetch(`${base}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': delivery,
          'x-hub-signature-256': signature,
        },
        // Whitespace that JSON re-serialisation would drop: the signature is over these bytes.
        body: `${body}  \n`,
      });

    expect((await post(signWebhook('hook-secret', `${body}  \n`), 'd-1')).status).toBe(202);
    expect((await post(signWebhook('hook-secret', body), 'd-2')).status).toBe(401);
    const rejected = await ws.ledger.list({ kind: 'webhook.rejected' });
    expect(rejected.map((e) => e.payload.delivery)).toEqual(['d-2']);
  });
});
