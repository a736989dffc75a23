import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startArgocdObserver } from '../adapters/argocd/observe.ts';
import { scheduleArgocdVerification } from '../adapters/argocd/verification.ts';
import { startWorkspaceDoraGauges } from '../adapters/datadog/dora-gauges.ts';
import { startLedgerForwarder } from '../adapters/forwarder.ts';
import {
  KubeClient,
  inClusterConfig,
  type KubeClientConfig,
} from '../adapters/kubernetes/index.ts';
import { buildOidcLogin, registerOidcRoutes, type OidcLogin } from '../adapters/oidc/index.ts';
import type { Logger } from '../log.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import type { Forge } from '../domain/forge.ts';
import type { Identity } from '../domain/identity.ts';
import { createServer } from './app.ts';
import { sealWorkspaceLedger } from '../workspace/checkpoint.ts';
import { changeManagementFor } from '../change/index.ts';
import { LocalIdentity } from '../embedded/identity/index.ts';
import { registerDashboard } from './routes/dashboard.ts';
import { ensureDashboardBuilt } from './routes/dashboard-build.ts';
import { registerReadApi } from './routes/read-api.ts';
import { workspaceLiveDiff } from './live-diff.ts';
import type { CdEngine } from '../reconcile/engine.ts';
import { ledgerIncidentSink } from '../reconcile/ports.ts';
import { startWorkspaceCdEngine } from '../reconcile/workspace-engine.ts';
import { startWorkspaceRegistry, startWorkspaceSandboxes } from './embedded-services.ts';

/** A service `changeproof up` started, as printed and written to the workspace. */
export interface Endpoint {
  name: string;
  url: string;
}

export interface ControlPlane {
  endpoints: Endpoint[];
  /** The built-in CD engine, when this control plane runs it. */
  cdEngine?: CdEngine;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  logger: Logger;
  /** Overrides the configured port (0 picks a free one). */
  port?: number;
  /** Seal a ledger checkpoint this often while running; 0 turns it off. */
  checkpointIntervalMs?: number;
  /** Who callers of the dashboard API are; the workspace's local tokens by default. */
  identity?: Identity;
  /** Dashboard login; built from changeproof.yaml when `adapters.identity` is `oidc`. */
  login?: OidcLogin;
  /** Proposals for the dashboard; the workspace's embedded forge by default. */
  forge?: Forge;
  /** Run the built-in CD engine (default: when the workspace's cdEngine adapter is builtin). */
  cdEngine?: boolean;
  /** Overrides the configured host. */
  host?: string;
  /** `api`: the API and dashboard only (the Helm chart's API Deployment); `all` by default. */
  services?: 'all' | 'api';
  /** The cluster Argo CD runs in, with `cdEngine: argocd`; the pod's own cluster by default. */
  argocdCluster?: KubeClientConfig;
  /** Forward new ledger entries to the configured sinks this often (default 10 s). */
  sinkIntervalMs?: number;
  /** Publish the DORA gauges to Datadog this often, besides after each production deployment. */
  doraIntervalMs?: number;
}

/**
 * Starts the control plane and the embedded services of local mode, on loopback, and writes
 * their addresses to `<workspace>/state/endpoints.json`. Each service is started in turn and
 * everything already started is stopped again if a later one fails.
 */
export async function startControlPlane(
  ws: WorkspaceContext,
  options: ControlPlaneOptions,
): Promise<ControlPlane> {
  const stops: (() => Promise<void>)[] = [];
  const endpoints: Endpoint[] = [];
  let cdEngine: CdEngine | undefined;
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const login = options.login ?? oidcLoginOf(ws);
    const local = options.identity ?? new LocalIdentity(ws.config, ws.store, ws.ledger);
    const { app } = createServer({
      workspace: ws,
      logger: options.logger,
      // With OIDC, dashboard sessions act on the change routes as bearer tokens do.
      ...(login ? { identity: login.identity(changeManagementFor(ws).identity) } : {}),
    });
    if (login) registerOidcRoutes(app, login);
    const liveDiff = workspaceLiveDiff(ws);
    stops.push(async () => liveDiff.close());
    await registerReadApi(app, {
      liveDiff: liveDiff.diff,
      ledger: ws.ledger,
      config: ws.config,
      // With OIDC, dashboard sessions are accepted wherever a bearer token is.
      identity: login ? login.identity(local) : local,
      configRepo: ws.paths.configRepo,
      forge: options.forge ?? changeManagementFor(ws).forge,
    });
    if (!(await ensureDashboardBuilt())) options.logger.warn({}, 'dashboard not built');
    await registerDashboard(app);
    const host = options.host ?? ws.config.server.host;
    await app.listen({ host, port: options.port ?? ws.config.server.port });
    stops.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    endpoints.push({ name: 'control-plane', url: `http://${host}:${port}` });

    const embedded = options.services !== 'api';
    if (embedded && ws.config.adapters.registry === 'embedded') {
      const registry = await startWorkspaceRegistry(ws);
      stops.push(() => registry.close());
      endpoints.push({ name: 'registry', url: registry.url });
    }

    if (embedded) {
      const sandboxes = await startWorkspaceSandboxes(ws);
      stops.push(() => sandboxes.close());
      for (const [name, cluster] of sandboxes.clusters) {
        endpoints.push({ name: `sandbox/${name}`, url: cluster.url });
      }
    }

    // Merges a crash left without their evidence are recorded before anything syncs them.
    const recovered = await changeManagementFor(ws).forge.recordUnrecordedMerges?.();
    if (recovered?.length)
      options.logger.warn({ proposals: recovered }, 'merge evidence recovered');

    if (embedded && (options.cdEngine ?? ws.config.adapters.cdEngine === 'builtin')) {
      cdEngine = await startWorkspaceCdEngine({ ws, logger: options.logger });
      stops.push(() => cdEngine!.close());
    }

    if (embedded && ws.config.adapters.cdEngine === 'argocd') {
      // Argo CD syncs; changeproof records what it did, and its own verification still compares
      // live with approved on each environment's verifyInterval.
      const client = new KubeClient(options.argocdCluster ?? inClusterConfig());
      const observer = await startArgocdObserver({
        client,
        ledger: ws.ledger,
        namespace: ws.config.adapters.argocd?.namespace ?? 'argocd',
        // A failed Argo CD sync opens its incident where the built-in engine's would go.
        incidents: ws.connected?.incidents ?? ledgerIncidentSink(ws.ledger),
        onError: (error) => options.logger.warn({ err: error }, 'argocd observation'),
      });
      stops.push(async () => (observer.stop(), client.close()));
      const verification = scheduleArgocdVerification({
        environments: ws.config.environments,
        startObserver: () =>
          startWorkspaceCdEngine({ ws, logger: options.logger, mode: 'observe' }),
        onError: (error, env) => options.logger.warn({ err: error, env }, 'verification failed'),
      });
      stops.push(() => verification.stop());
    }

    const sealer = startCheckpointTimer(ws, options);
    stops.push(async () => clearInterval(sealer));

    const sinks = ws.connected?.sinks ?? [];
    if (sinks.length > 0) {
      const dora = startWorkspaceDoraGauges(ws, sinks, {
        intervalMs: options.doraIntervalMs ?? 3_600_000,
        onFailure: (error) => options.logger.warn({ err: error }, 'dora gauges not published'),
      });
      if (dora) stops.push(() => dora.stop());
      const forwarder = startLedgerForwarder({
        ledger: ws.ledger,
        sinks: dora ? [...sinks, dora.sink] : sinks,
        positionsFile: join(ws.paths.stateDir, 'sink-positions.json'),
        intervalMs: options.sinkIntervalMs ?? 10_000,
        onFailure: (sink, error) => options.logger.warn({ sink, err: error }, 'sink behind'),
      });
      stops.push(() => forwarder.stop());
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  writeEndpoints(ws.paths.endpoints, endpoints);
  stops.push(async () => rmSync(ws.paths.endpoints, { force: true }));
  return { endpoints, cdEngine, close: stopAll };
}

function oidcLoginOf(ws: WorkspaceContext): OidcLogin | undefined {
  if (ws.config.adapters.identity !== 'oidc') return undefined;
  return buildOidcLogin(ws.config.adapters.oidc, { env: process.env, keysDir: ws.paths.keysDir });
}

function startCheckpointTimer(
  ws: WorkspaceContext,
  options: ControlPlaneOptions,
): NodeJS.Timeout | undefined {
  const interval = options.checkpointIntervalMs ?? 60_000;
  if (interval <= 0) return undefined;
  const timer = setInterval(() => {
    void sealWorkspaceLedger(ws).catch((error) =>
      options.logger.warn({ err: error }, 'checkpoint not sealed'),
    );
  }, interval);
  timer.unref();
  return timer;
}

function writeEndpoints(file: string, endpoints: Endpoint[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.partial`, `${JSON.stringify({ pid: process.pid, endpoints }, null, 2)}\n`);
  // rename is atomic: readers see the old file or the new one, never half of one.
  renameSync(`${file}.partial`, file);
}
