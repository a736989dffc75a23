import {
  recordEvidence,
  type EvidencePayloads,
  type RegistryRefusalCode,
} from '../../domain/evidence.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { RefusalWindow, UNAUTHENTICATED_ACTOR } from '../identity/refusal-recorder.ts';
import type { OciHttpError } from './errors.ts';
import { parseRoute } from './routes.ts';

/** The ledger subject of every refusal the embedded registry records. */
export const REGISTRY_SUBJECT = 'registry:embedded';

const RECORDED = new Set<string>([
  'NAME_INVALID',
  'TAG_INVALID',
  'DIGEST_INVALID',
  'MANIFEST_INVALID',
  'SIZE_INVALID',
] satisfies RegistryRefusalCode[]);

const NAME_LIMIT = 128;
const REASON_LIMIT = 200;

/** The request a refusal answered: its method and path, never its body. */
export interface RefusedRequest {
  method: string;
  url: URL;
}

/**
 * Records the embedded registry's refusals of hostile or malformed requests as
 * `registry.refused`, at most one per code a minute with the rest counted (the sender picks
 * names freely, so names never key the window). Authentication challenges and unknown blobs or
 * manifests are the protocol's ordinary flow and are not recorded.
 */
export class RegistryRefusalRecorder {
  private readonly window: RefusalWindow;

  constructor(
    private readonly ledger: Ledger,
    clock: () => Date = () => new Date(),
    windowMs?: number,
  ) {
    this.window = new RefusalWindow(clock, windowMs);
  }

  async record(error: OciHttpError, request: RefusedRequest): Promise<void> {
    if (!isRecorded(error)) return;
    const suppressed = this.window.admit(error.code);
    if (suppressed === undefined) return;
    await recordEvidence(this.ledger, 'registry.refused', REGISTRY_SUBJECT, UNAUTHENTICATED_ACTOR, {
      ...describeRefusal(error, request),
      ...(suppressed > 0 ? { suppressed } : {}),
    });
  }
}

function isRecorded(error: OciHttpError): error is OciHttpError & { code: RegistryRefusalCode } {
  // A 416 is a range the blob cannot serve, not an oversized body.
  return RECORDED.has(error.code) && !(error.code === 'SIZE_INVALID' && error.status !== 413);
}

/** The entry's payload: the name cut short and cleaned, the message cut short, no body. */
export function describeRefusal(
  error: OciHttpError & { code: RegistryRefusalCode },
  request: RefusedRequest,
): Omit<EvidencePayloads['registry.refused'], 'suppressed'> {
  const route = routeOf(request.url);
  const name = route && 'name' in route ? clean(route.name, NAME_LIMIT) : undefined;
  return {
    code: error.code,
    status: error.status,
    method: clean(request.method, 16),
    endpoint: route?.kind ?? 'unknown',
    ...(name !== undefined ? { name } : {}),
    reason: clean(error.message, REASON_LIMIT),
  };
}

// A path that does not decode is refused before any route exists: no name to report.
function routeOf(url: URL) {
  try {
    return parseRoute(url.pathname);
  } catch {
    return undefined;
  }
}

function clean(text: string, limit: number): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\u0000-\u001f\u007f]/g, '');
  return printable.length > limit ? `${printable.slice(0, limit - 1)}…` : printable;
}
