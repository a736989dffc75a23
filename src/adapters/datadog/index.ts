import type { LedgerEntry } from '../../ledger/entry.ts';
import { UpstreamError } from '../../errors.ts';
import { HttpClient } from '../http/client.ts';
import type { EvidenceSink } from '../sink.ts';
import { eventSchema, seriesSchema, type DatadogEvent } from './schema.ts';

export interface DatadogSinkOptions {
  /** `datadoghq.com`, `datadoghq.eu`, `us5.datadoghq.com` …; the API is `https://api.<site>`. */
  site: string;
  /** Overrides the API URL (a proxy, or an emulator in tests). */
  apiUrl?: string;
  /** From DD_API_KEY; never from the config file. */
  apiKey: string;
  tags?: string[];
  backoffMs?: number;
  timeoutMs?: number;
}

/** DORA figures for one period, as the audit computes them from the ledger. */
export interface DoraGauges {
  deploymentsPerDay: number;
  leadTimeSeconds?: number;
  changeFailureRate?: number;
  timeToRestoreSeconds?: number;
}

/**
 * Datadog as an evidence sink: a deployment marker event on every completed sync, error events
 * for drift and failed syncs, and DORA metrics as gauges through the series API.
 */
export class DatadogSink implements EvidenceSink {
  readonly name = 'datadog';
  private readonly http: HttpClient;

  constructor(private readonly options: DatadogSinkOptions) {
    this.http = new HttpClient({
      system: 'datadog',
      baseUrl: options.apiUrl ?? `https://api.${options.site}`,
      backoffMs: options.backoffMs,
      timeoutMs: options.timeoutMs,
      headers: () => ({ 'dd-api-key': options.apiKey }),
    });
  }

  async publish(entry: LedgerEntry): Promise<void> {
    const event = eventFor(entry, this.options.tags ?? []);
    if (event) await this.post('/api/v1/events', eventSchema.parse(event));
  }

  /** Sends the DORA figures as gauges tagged with the environment. */
  async publishDora(env: string, gauges: DoraGauges, at = new Date()): Promise<void> {
    const timestamp = Math.floor(at.getTime() / 1000);
    const tags = [`env:${env}`, ...(this.options.tags ?? [])];
    const metrics: [string, number | undefined][] = [
      ['changeproof.dora.deployment_frequency', gauges.deploymentsPerDay],
      ['changeproof.dora.lead_time_seconds', gauges.leadTimeSeconds],
      ['changeproof.dora.change_failure_rate', gauges.changeFailureRate],
      ['changeproof.dora.time_to_restore_seconds', gauges.timeToRestoreSeconds],
    ];
    const series = metrics
      .filter((m): m is [string, number] => m[1] !== undefined)
      .map(([metric, value]) => ({
        metric,
        type: 3 as const,
        points: [{ timestamp, value }],
        tags,
      }));
    await this.post('/api/v2/series', seriesSchema.parse({ series }));
  }

  private async post(path: string, body: unknown): Promise<void> {
    // Events and points are idempotent enough to repeat (a duplicate marker beats a lost one).
    const response = await this.http.request({ method: 'POST', path, body, retry: true });
    if (response.status >= 300) {
      throw new UpstreamError(
        'datadog',
        `datadog refused ${path} (HTTP ${response.status}); check DD_API_KEY and the site`,
        { code: 'UPSTREAM_REJECTED', details: { status: response.status } },
      );
    }
  }
}

function eventFor(entry: LedgerEntry, extraTags: string[]): DatadogEvent | undefined {
  const p = entry.payload as Record<string, unknown>;
  const tags = (app: unknown) => {
    const [env, service] = String(app).split('/');
    return [`env:${env}`, `service:${service}`, 'source:changeproof', ...extraTags];
  };
  const date_happened = Math.floor(Date.parse(entry.time) / 1000);
  if (entry.kind === 'sync.completed') {
    return {
      title: `Deployed ${String(p.service)} to ${String(p.env)}`,
      text: `Config commit ${String(p.configCommit)}, desired state ${String(p.desiredDigest)}, change ${String(p.change ?? 'none')}. Ledger entry ${entry.seq}.`,
      alert_type: 'success',
      tags: [...tags(p.app), 'event_type:deployment'],
      aggregation_key: String(p.deployment),
      source_type_name: 'changeproof',
      date_happened,
    };
  }
  if (entry.kind === 'sync.failed') {
    return {
      title: `Sync failed for ${String(p.app)}`,
      text: `${String(p.reason)}. Ledger entry ${entry.seq}.`,
      alert_type: 'error',
      tags: tags(p.app),
      aggregation_key: String(p.deployment),
      source_type_name: 'changeproof',
      date_happened,
    };
  }
  if (entry.kind === 'drift.detected') {
    return {
      title: `Drift on ${String(p.app)}`,
      text: `${String(p.object)} changed by ${String(p.fieldManager)} (${String(p.action)}). Ledger entry ${entry.seq}.`,
      alert_type: 'warning',
      tags: tags(p.app),
      source_type_name: 'changeproof',
      date_happened,
    };
  }
  return undefined;
}
