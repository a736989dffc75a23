import { randomUUID } from 'node:crypto';
import { UpstreamError } from '../../errors.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';
import { HttpClient } from '../http/client.ts';
import type { EvidenceSink } from '../sink.ts';
import { cdeventSchema, type CdEvent } from './schema.ts';

export interface CdeventsSinkOptions {
  url: string;
  /** CloudEvents binary mode (ce-* headers) or structured mode (one JSON envelope). */
  mode: 'binary' | 'structured';
  source: string;
  /** From CDEVENTS_TOKEN, sent as a bearer token when set. */
  token?: string;
  backoffMs?: number;
}

const SPEC_VERSION = '0.4.1';

/**
 * CDEvents over HTTP as a generic sink: `service.deployed` on a completed sync,
 * `incident.detected` on drift and failed syncs, `incident.resolved` when resolved, each a
 * CloudEvent in binary or structured mode, its id the ledger entry's hash so a repeat is
 * recognisable downstream.
 */
export class CdeventsSink implements EvidenceSink {
  readonly name = 'cdevents';
  private readonly http: HttpClient;

  constructor(private readonly options: CdeventsSinkOptions) {
    this.http = new HttpClient({
      system: 'cdevents',
      baseUrl: options.url,
      backoffMs: options.backoffMs,
      headers: (): Record<string, string> =>
        options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
  }

  async publish(entry: LedgerEntry): Promise<void> {
    const event = cdeventFor(entry, this.options.source);
    if (!event) return;
    const checked = cdeventSchema.parse(event);
    const request: { headers: Record<string, string>; body: unknown } =
      this.options.mode === 'binary'
        ? {
            headers: {
              'ce-specversion': '1.0',
              'ce-id': checked.context.id,
              'ce-source': checked.context.source,
              'ce-type': checked.context.type,
              'ce-time': checked.context.timestamp,
              'content-type': 'application/json',
            },
            body: checked,
          }
        : {
            headers: { 'content-type': 'application/cloudevents+json' },
            body: {
              specversion: '1.0',
              id: checked.context.id,
              source: checked.context.source,
              type: checked.context.type,
              time: checked.context.timestamp,
              datacontenttype: 'application/json',
              data: checked,
            },
          };
    const response = await this.http.request({ method: 'POST', path: '', ...request, retry: true });
    if (response.status >= 300) {
      throw new UpstreamError(
        'cdevents',
        `the CDEvents endpoint refused the event (HTTP ${response.status})`,
        { code: 'UPSTREAM_REJECTED' },
      );
    }
  }
}

/** The CDEvent for a ledger entry, if the entry is one CDEvents has a type for. */
export function cdeventFor(entry: LedgerEntry, source: string): CdEvent | undefined {
  const p = entry.payload as Record<string, unknown>;
  const context = (type: string) => ({
    version: SPEC_VERSION,
    id: entry.hash || randomUUID(),
    source,
    type,
    timestamp: entry.time,
  });
  const [env, service] = String(p.app ?? '').split('/');
  if (entry.kind === 'sync.completed') {
    const image = (p.images as { name: string; digest: string }[] | undefined)?.[0];
    return {
      context: context('dev.cdevents.service.deployed.0.2.0'),
      subject: {
        id: String(p.deployment),
        source,
        content: {
          environment: { id: String(p.env) },
          artifactId: image
            ? `pkg:oci/${image.name.split('/').at(-1)}@${image.digest}?repository_url=${encodeURIComponent(image.name)}`
            : `pkg:generic/${String(p.service)}`,
        },
      },
    };
  }
  if (entry.kind === 'drift.detected' || entry.kind === 'sync.failed') {
    return {
      context: context('dev.cdevents.incident.detected.0.2.0'),
      subject: {
        id: `${entry.kind}:${entry.seq}`,
        source,
        content: {
          description:
            entry.kind === 'drift.detected'
              ? `drift on ${String(p.object)} by ${String(p.fieldManager)}`
              : `sync failed: ${String(p.reason)}`,
          environment: { id: env ?? '' },
          service: { id: service ?? '' },
        },
      },
    };
  }
  if (entry.kind === 'incident.resolved') {
    return {
      context: context('dev.cdevents.incident.resolved.0.2.0'),
      subject: { id: String(p.incident), source, content: { description: String(p.resolution) } },
    };
  }
  return undefined;
}
