import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { recordEvidence } from '../../src/domain/evidence.ts';
import { LocalIdentity } from '../../src/embedded/identity/index.ts';
import type { Ledger } from '../../src/ledger/ledger.ts';
import { createLogger } from '../../src/log.ts';
import {
  startControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
} from '../../src/server/control-plane.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

/** Says loudly why browser tests are skipped; CI installs chromium, so there they always run. */
export function chromiumMissing(): boolean {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run must install chromium`);
  process.stderr.write(
    `\n!!! ${CHROMIUM} NOT FOUND: dashboard browser tests SKIPPED (apt-get install -y chromium) !!!\n`,
  );
  return true;
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export interface Plane {
  root: string;
  ws: WorkspaceContext;
  plane: ControlPlane;
  url: string;
  /** A local token for each user of the workspace. */
  tokens: Record<string, string>;
  close(): Promise<void>;
}

/** A fresh workspace and a control plane on loopback, with no checkpoint timer. */
export async function startPlane(
  configure: (ws: WorkspaceContext) => Partial<ControlPlaneOptions> = () => ({}),
): Promise<Plane> {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-dashboard-'));
  await initWorkspace({ dir: root, name: 'dash' });
  const ws = await openWorkspace(root);
  const plane = await startControlPlane(ws, {
    logger: createLogger({ level: 'silent' }),
    port: 0,
    checkpointIntervalMs: 0,
    // These tests write the CD plane's evidence themselves; a live engine would act on it.
    cdEngine: false,
    ...configure(ws),
  });
  const url = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
  const identity = new LocalIdentity(ws.config, ws.store, ws.ledger);
  const tokens: Record<string, string> = {};
  for (const user of ws.config.identities)
    tokens[user.name] = (await identity.issue(user.name)).token;
  return {
    root,
    ws,
    plane,
    url,
    tokens,
    async close() {
      await plane.close();
      await ws.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const hex = (seed: string, length = 64) => seed.repeat(length).slice(0, length);

/**
 * Writes the evidence of one delivered and deployed application: pipeline run, merge with its
 * approvals, sync, and a verification. `signed: false` leaves the signature link out; `commit`
 * names a real config-repo commit (for rollback), else one is made up from the seed.
 */
export async function deployApp(
  ledger: Ledger,
  app: {
    env: string;
    service: string;
    n: number;
    seed: string;
    signed?: boolean;
    at?: Date;
    commit?: string;
  },
): Promise<{ deployment: string; digest: string; commit: string }> {
  const { env, service, n, seed } = app;
  const at = (app.at ?? new Date()).toISOString();
  const run = `run-${env}-${service}-${n}`;
  const digest = `sha256:${hex(seed)}`;
  const commit = app.commit ?? hex(seed, 40);
  const desiredDigest = `sha256:${hex(seed + 'd')}`;
  const proposal = `p-${env}-${service}-${n}`;
  const change = `CHG${String(n).padStart(7, '0')}`;
  const deployment = `${env}/${service}/${n}`;
  const image = `127.0.0.1:5000/${service}@${digest}`;
  await recordEvidence(ledger, 'delivery.started', `run:${run}`, 'pipeline', {
    run,
    service,
    env,
    sourceRepo: `git@example.test:${service}.git`,
    sourceCommit: hex(seed, 40),
    dirty: false,
    sourceCommittedAt: new Date(Date.parse(at) - 3_600_000).toISOString(),
  });
  await recordEvidence(ledger, 'delivery.completed', `run:${run}`, 'pipeline', {
    run,
    service,
    env,
    image,
    sbomDigest: `sha256:${hex('5')}`,
    scanVerdict: 'pass',
    signatureTag: `sha256-${hex(seed)}.sig`,
    attestationTag: `sha256-${hex(seed)}.att`,
    proposal,
    leases: [],
    clusterCredentialsHeld: false,
  });
  await recordEvidence(ledger, 'proposal.merged', `proposal:${proposal}`, 'bob', {
    proposal,
    service,
    env,
    headCommit: commit,
    mergeCommit: commit,
    mergedBy: 'bob',
    author: 'alice',
    lastPusher: 'alice',
    approvals: [{ reviewer: 'carol', roles: ['cab'], commit, at }],
    change,
    path: 'normal',
    desiredDigest,
  });
  await recordEvidence(ledger, 'sync.completed', `deployment:${deployment}`, 'cd-plane', {
    deployment,
    app: `${env}/${service}`,
    env,
    service,
    configCommit: commit,
    change,
    images: [
      {
        name: `127.0.0.1:5000/${service}`,
        digest,
        ...(app.signed === false ? {} : { signedBy: 'pipeline' }),
      },
    ],
    desiredDigest,
    liveDigest: desiredDigest,
    startedAt: at,
    finishedAt: at,
    initiator: 'cd-plane',
    health: 'Healthy',
  });
  await recordEvidence(ledger, 'verification.sealed', `app:${env}/${service}`, 'cd-plane', {
    app: `${env}/${service}`,
    configCommit: commit,
    desiredDigest,
    liveDigest: desiredDigest,
    equal: true,
    attestation: {},
  });
  return { deployment, digest, commit };
}

/** An out-of-band edit the CD plane saw, and the incident it raised. */
export async function driftApp(
  ledger: Ledger,
  app: string,
  object = 'Deployment/default/checkout',
) {
  await recordEvidence(ledger, 'drift.detected', `app:${app}`, 'cd-plane', {
    app,
    object,
    fields: ['spec.replicas'],
    diff: '-  replicas: 2\n+  replicas: 5',
    fieldManager: 'kubectl-edit',
    desiredDigest: `sha256:${hex('d')}`,
    action: 'detect-only',
  });
  await recordEvidence(ledger, 'incident.opened', `incident:inc-1`, 'cd-plane', {
    incident: 'inc-1',
    app,
    cause: 'drift',
    link: 'http://127.0.0.1/incidents/inc-1',
  });
}
