import { computeDora, type DoraFigures } from '../../audit/dora.ts';
import { auditInputsOf, runDeploymentAudit } from '../../audit/inputs.ts';
import type { AuditRange } from '../../audit/range.ts';
import { evidenceOf } from '../../domain/evidence.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import type { EvidenceSink } from '../sink.ts';
import { DatadogSink, type DoraGauges } from './index.ts';

const DAY_MS = 86_400_000;
const HOUR_S = 3600;

/** The DORA figures of one environment over a period, as the audit computes them. */
export type DoraMeasure = (env: string, range: AuditRange) => Promise<DoraFigures>;

export interface DoraGaugeOptions {
  sink: Pick<DatadogSink, 'publishDora'>;
  /** The environments whose figures are published (the production ones). */
  envs: string[];
  measure: DoraMeasure;
  /** The trailing window the figures cover (default 30 days). */
  windowDays?: number;
  /** Publish this often besides after each production deployment. */
  intervalMs: number;
  /** Told about a scheduled publication that failed; the next one tries again. */
  onFailure(error: unknown): void;
  now?: () => Date;
}

export interface DoraGaugePublisher {
  /** Measures every environment now and sends the gauges; resolves when Datadog took them. */
  publish(): Promise<void>;
  /**
   * Forwarded ledger entries: a production `sync.completed` newer than the last publication
   * publishes again, so the gauges follow each deployment. Forward it beside the other sinks.
   */
  sink: EvidenceSink;
  stop(): Promise<void>;
}

/**
 * Publishes the DORA keys of each environment as Datadog gauges on a schedule and after each
 * production deployment. The ledger stays the source: the figures are the audit's own, over a
 * trailing window ending now.
 */
export function startDoraGauges(options: DoraGaugeOptions): DoraGaugePublisher {
  const now = options.now ?? (() => new Date());
  const windowDays = options.windowDays ?? 30;
  // Deployments up to this time are counted in what Datadog already has.
  let measuredUpTo = 0;
  let running: Promise<void> | undefined;

  const publishAll = async () => {
    const at = now();
    const range = trailingWindow(at, windowDays);
    for (const env of options.envs) {
      const figures = await options.measure(env, range);
      await options.sink.publishDora(env, gaugesOf(figures, windowDays), at);
    }
    measuredUpTo = at.getTime();
  };
  // One publication at a time: the timer and a deployment must not measure twice at once.
  const publish = () => (running ??= publishAll().finally(() => (running = undefined)));

  const sink: EvidenceSink = {
    name: 'datadog-dora',
    async publish(entry: LedgerEntry) {
      const sync = evidenceOf(entry, 'sync.completed');
      if (!sync || !options.envs.includes(sync.env)) return;
      if (Date.parse(entry.time) < measuredUpTo) return;
      await publish();
    },
  };

  const scheduled = () => void publish().catch((error: unknown) => options.onFailure(error));
  scheduled();
  const timer = setInterval(scheduled, options.intervalMs);
  timer.unref();
  return {
    publish,
    sink,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** Datadog's gauges from the audit's figures: per-day frequency, seconds, a 0..1 rate. */
export function gaugesOf(figures: DoraFigures, windowDays: number): DoraGauges {
  return {
    deploymentsPerDay: figures.deployments / windowDays,
    ...(figures.leadTimeMedianHours === undefined
      ? {}
      : { leadTimeSeconds: Math.round(figures.leadTimeMedianHours * HOUR_S) }),
    ...(figures.changeFailureRate === undefined
      ? {}
      : { changeFailureRate: figures.changeFailureRate }),
    ...(figures.timeToRestoreMedianHours === undefined
      ? {}
      : { timeToRestoreSeconds: Math.round(figures.timeToRestoreMedianHours * HOUR_S) }),
  };
}

function trailingWindow(at: Date, days: number): AuditRange {
  return {
    from: new Date(at.getTime() - days * DAY_MS),
    // Half-open: a deployment recorded in this very millisecond still counts.
    to: new Date(at.getTime() + 1),
    label: `the ${days} days to ${at.toISOString()}`,
  };
}

/** The DORA figures of a workspace's ledger, one environment at a time. */
export function workspaceDoraMeasure(ws: WorkspaceContext): DoraMeasure {
  return async (env, range) => {
    const scope = { range, envs: [env] };
    const { index, deployments } = await runDeploymentAudit(auditInputsOf(ws), scope);
    return computeDora(index, deployments, range).overall;
  };
}

/**
 * The DORA gauges of a workspace when its sinks include Datadog: the production environments,
 * measured from its ledger. Undefined without a Datadog sink.
 */
export function startWorkspaceDoraGauges(
  ws: WorkspaceContext,
  sinks: EvidenceSink[],
  options: Pick<DoraGaugeOptions, 'intervalMs' | 'onFailure'>,
): DoraGaugePublisher | undefined {
  const datadog = sinks.find((sink): sink is DatadogSink => sink instanceof DatadogSink);
  if (!datadog) return undefined;
  return startDoraGauges({
    ...options,
    sink: datadog,
    envs: ws.config.environments.filter((env) => env.production).map((env) => env.name),
    measure: workspaceDoraMeasure(ws),
  });
}
