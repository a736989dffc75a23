import { execFile } from 'node:child_process';
import { evidenceOf, type EvidencePayloads } from '../domain/evidence.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { toolPath } from '../tools.ts';
import { appLabel } from './application.ts';
import type { CdEngine } from './engine.ts';
import type { VerificationResult } from './verification.ts';

export interface CdDemoOptions {
  engine: CdEngine;
  ledger: Ledger;
  /** The kubeconfig (and context) kubectl uses against the sandbox. */
  kubeconfig: string;
  context?: string;
  env: string;
  service: string;
  /** The out-of-band image set by hand (default `nginx:latest`). */
  outOfBandImage?: string;
  /** One line per step, for the demo's narration. */
  report(line: string): void;
  timeoutMs?: number;
}

export interface CdDemoResult {
  deployment: string;
  drift: EvidencePayloads['drift.detected'];
  incident: string;
  verification: VerificationResult | undefined;
}

/**
 * The CD plane's part of the demo: the merged change syncs, someone runs `kubectl set image` by
 * hand (the real kubectl against the sandbox), the engine records the drift with the field
 * manager, opens an incident and reverts it, and a verification is sealed.
 */
export async function demonstrateCdPlane(options: CdDemoOptions): Promise<CdDemoResult> {
  const app = `${options.env}/${options.service}`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  await options.engine.syncNow();
  const synced = await until(timeoutMs, async () =>
    options.engine
      .applications()
      .find((view) => view.app === app && view.health === 'Healthy' && view.deployment),
  );
  options.report(`synced ${app} as ${synced.deployment}: ${synced.sync}, ${synced.health}`);

  const head = (await options.ledger.head())?.seq ?? 0;
  const target = await workloadOf(options, `${options.env}.${options.service}`);
  const image = options.outOfBandImage ?? 'nginx:latest';
  await kubectl(options, [
    'set',
    'image',
    `deployment/${target.name}`,
    `${target.container}=${image}`,
    '-n',
    target.namespace,
  ]);
  options.report(
    `kubectl set image deployment/${target.name} ${target.container}=${image} -n ${target.namespace}`,
  );

  const drift = await until(timeoutMs, () =>
    firstAfter(options.ledger, head, 'drift.detected', app),
  );
  options.report(
    `drift recorded: ${drift.object} ${drift.fields.join(', ')} by ${drift.fieldManager}`,
  );
  const incident = await until(timeoutMs, () =>
    firstAfter(options.ledger, head, 'incident.opened', app),
  );
  options.report(`incident ${incident.incident} opened`);
  if (drift.action === 'reverted') {
    await until(timeoutMs, () => firstAfter(options.ledger, head, 'drift.reverted', app));
    options.report(`drift reverted to ${drift.desiredDigest}`);
  }

  const verification = (await options.engine.verify(options.env)).find(
    (result) => result.app === app,
  );
  options.report(
    `verification sealed: ${app} live ${verification?.equal ? 'equals' : 'differs from'} ${verification?.desiredDigest}`,
  );
  return { deployment: synced.deployment!, drift, incident: incident.incident, verification };
}

async function firstAfter<K extends 'drift.detected' | 'incident.opened' | 'drift.reverted'>(
  ledger: Ledger,
  afterSeq: number,
  kind: K,
  app: string,
): Promise<EvidencePayloads[K] | undefined> {
  for (const entry of await ledger.list({ kind, afterSeq })) {
    const payload = evidenceOf(entry, kind) as EvidencePayloads[K] & { app: string };
    if (payload.app === app) return payload;
  }
  return undefined;
}

async function workloadOf(options: CdDemoOptions, label: string) {
  const output = await kubectl(options, [
    'get',
    'deployments',
    '-A',
    '-l',
    `${appLabel}=${label}`,
    '-o',
    'jsonpath={.items[0].metadata.namespace} {.items[0].metadata.name} {.items[0].spec.template.spec.containers[0].name}',
  ]);
  const [namespace, name, container] = output.trim().split(' ');
  if (!namespace || !name || !container)
    throw new Error(`no deployment labelled ${label} in the sandbox`);
  return { namespace, name, container };
}

function kubectl(options: CdDemoOptions, args: string[]): Promise<string> {
  const context = options.context ? ['--context', options.context] : [];
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('kubectl'),
      ['--kubeconfig', options.kubeconfig, ...context, ...args],
      // execFile, not execFileSync: the sandbox may serve from this very process.
      { env: { PATH: process.env.PATH ?? '/usr/bin', HOME: process.env.HOME ?? '/tmp' } },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kubectl ${args[0]}: ${stderr.trim() || error.message}`))
          : resolve(stdout),
    );
  });
}

async function until<T>(
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`the demo step did not finish within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
