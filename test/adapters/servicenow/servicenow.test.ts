import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  compareWithLedger,
  ServiceNowChangeSystem,
  ServiceNowIncidentSink,
  servicenowCredentialsFromEnv,
} from '../../../src/adapters/servicenow/index.ts';
import { recordEvidence } from '../../../src/domain/evidence.ts';
import { UpstreamError } from '../../../src/errors.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { ServiceNowEmulator } from '../../emulators/servicenow/server.ts';
import { freshStore } from '../../support/stores.ts';

const servicenow = new ServiceNowEmulator({ changeproof: 'pw' });
const basic = { kind: 'basic' as const, user: 'changeproof', password: 'pw' };
const oauth = {
  kind: 'oauth' as const,
  user: 'changeproof',
  password: 'pw',
  clientId: 'cp-client',
  clientSecret: 'cp-secret',
};
const open = {
  type: 'normal' as const,
  proposal: '7',
  service: 'payments',
  env: 'prod',
  shortDescription: 'payments v2',
  description: 'image bump',
  evidence: {
    artifact: 'reg/payments@sha256:bb',
    sbomDigest: 'sha256:cc',
    signer: 'pipeline-key',
    scanVerdict: 'pass',
  },
  cabRequired: true,
};

let ledger: Ledger;
let dispose: () => Promise<void>;
beforeAll(async () => {
  await servicenow.start();
});
afterAll(async () => {
  await servicenow.stop();
});
beforeEach(async () => {
  servicenow.clearFaults();
  const fresh = await freshStore('sqlite');
  ledger = new Ledger(fresh.store);
  dispose = fresh.dispose;
  return () => dispose();
});

function system(credentials: typeof basic | typeof oauth = basic) {
  return new ServiceNowChangeSystem({
    instanceUrl: servicenow.url,
    credentials,
    backoffMs: 1,
    timeoutMs: 300,
    standardTemplate: 'std-image-bump',
  });
}

describe('ServiceNow change system', () => {
  it('links the artifact, SBOM, signer and scan in the description and correlation fields', async () => {
    const change = await system().open(open);
    const row = servicenow.tables.get('change_request')!.find((r) => r.number === change.number)!;

    expect(row.correlation_id).toBe('proposal:7');
    expect(row.description).toContain('Artifact: reg/payments@sha256:bb');
    expect(row.description).toContain('Signed by: pipeline-key');
    expect(row).toMatchObject({
      u_sbom_digest: 'sha256:cc',
      u_scan_verdict: 'pass',
      cmdb_ci: 'payments',
    });
  });

  it('opens a standard change from its template through the Change API', async () => {
    const change = await system().open({ ...open, type: 'standard', cabRequired: false });
    expect(change.type).toBe('standard');
    expect(
      servicenow.requests.some((r) => r.path === '/api/sn_chg_rest/change/standard/std-image-bump'),
    ).toBe(true);
  });

  it('reads approvals given in ServiceNow from sysapproval_approver, ignoring requested ones', async () => {
    const sut = system();
    const change = await sut.open(open);
    servicenow.approve(change.number, 'carol', 'approved', 'cab');
    servicenow.approve(change.number, 'frank', 'requested', 'cab');

    const read = await sut.get(change.number);
    expect(read.approvals.map((a) => [a.approver, a.role, a.state])).toEqual([
      ['carol', 'cab', 'approved'],
    ]);
  });

  it('authenticates with the OAuth password grant and fetches a new token after a 401', async () => {
    const sut = system(oauth);
    const change = await sut.open(open);
    servicenow.expireTokens();

    await expect(sut.get(change.number)).resolves.toMatchObject({ number: change.number });
    expect(servicenow.requests.filter((r) => r.path === '/oauth_token.do')).toHaveLength(2);
    const wrong = new ServiceNowChangeSystem({
      instanceUrl: servicenow.url,
      credentials: { ...oauth, clientSecret: 'nope' },
    });
    await expect(wrong.get(change.number)).rejects.toMatchObject({
      code: 'SERVICENOW_UNAUTHORIZED',
    });
  });

  it('reports an outage as UpstreamError without retrying the create, and retries a read after 429', async () => {
    const count = () => servicenow.tables.get('change_request')!.length;
    const before = count();
    servicenow.fail({ status: 503, match: /POST \/api\/sn_chg_rest/ });
    await expect(system().open(open)).rejects.toBeInstanceOf(UpstreamError);
    expect(count()).toBe(before);

    const change = await system().open(open);
    servicenow.fail({ status: 429, retryAfter: '0', match: /GET / });
    await expect(system().get(change.number)).resolves.toMatchObject({ number: change.number });

    servicenow.fail({ delayMs: 500, status: 200, match: /GET / }, 10);
    await expect(system().get(change.number)).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    servicenow.clearFaults();
    await expect(
      new ServiceNowChangeSystem({
        instanceUrl: servicenow.url,
        credentials: { ...basic, password: 'x' },
      }).get(change.number),
    ).rejects.toMatchObject({ code: 'SERVICENOW_UNAUTHORIZED' });
  });

  it('turns a record edited behind changeproof into findings while the ledger snapshot stands', async () => {
    const sut = system();
    const change = await sut.open(open);
    await recordEvidence(ledger, 'change.opened', `change:${change.number}`, 'system', {
      change: change.number,
      type: 'normal',
      proposal: '7',
      service: 'payments',
      env: 'prod',
      artifact: 'reg/payments@sha256:bb',
      sbomDigest: 'sha256:cc',
      signer: 'pipeline-key',
      scanVerdict: 'pass',
    });
    await recordEvidence(ledger, 'change.state', `change:${change.number}`, 'system', {
      change: change.number,
      from: 'New',
      to: 'Assess',
      stateCode: -4,
    });
    await sut.transition(change.number, 'Assess');
    expect(compareWithLedger(await sut.get(change.number), await ledger.list())).toEqual([]);

    servicenow.edit('change_request', change.number, {
      u_artifact_digest: 'reg/payments@sha256:evil',
      state: '-1',
    });
    servicenow.approve(change.number, 'mallory');
    const findings = compareWithLedger(await sut.get(change.number), await ledger.list());

    expect(findings.map((f) => [f.field, f.ledger, f.live])).toEqual([
      ['artifact', 'reg/payments@sha256:bb', 'reg/payments@sha256:evil'],
      ['state', 'Assess', 'Implement'],
      ['approvals', '', 'mallory'],
    ]);
  });
});

describe('ServiceNow incident sink', () => {
  it('opens an incident for drift with its urgency, records it, and resolves it', async () => {
    const sink = new ServiceNowIncidentSink(
      { instanceUrl: servicenow.url, credentials: basic, backoffMs: 1 },
      ledger,
    );
    const number = await sink.open({
      app: 'prod/payments',
      cause: 'drift',
      summary: 'replicas changed by kubectl',
      link: 'ledger:42',
    });

    const row = servicenow.tables.get('incident')!.find((r) => r.number === number)!;
    expect(row).toMatchObject({ urgency: '2', cmdb_ci: 'payments', category: 'software' });
    await sink.resolve(number, 'reverted by self-heal');
    expect(row.state).toBe('6');
    expect((await ledger.list({ subject: `incident:${number}` })).map((e) => e.kind)).toEqual([
      'incident.opened',
      'incident.resolved',
    ]);
  });
});

describe('servicenowCredentialsFromEnv', () => {
  it('reads credentials from the environment and says which variable is missing', () => {
    expect(
      servicenowCredentialsFromEnv('basic', { SERVICENOW_USER: 'u', SERVICENOW_PASSWORD: 'p' }),
    ).toEqual({ kind: 'basic', user: 'u', password: 'p' });
    expect(() =>
      servicenowCredentialsFromEnv('oauth', { SERVICENOW_USER: 'u', SERVICENOW_PASSWORD: 'p' }),
    ).toThrow(/SERVICENOW_CLIENT_ID/);
  });
});
