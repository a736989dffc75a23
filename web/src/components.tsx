import type { EvidenceBadge as Badge, SyncState } from '../../src/server/routes/read-api-types.ts';
import type { ApiError } from './api.ts';

const LINKS = ['approved', 'signed', 'scanned', 'verified'] as const;

/** Four evidence links; the badge turns red when any link is missing. */
export function EvidenceBadge({ evidence }: { evidence: Badge }) {
  const ok = evidence.missing.length === 0;
  return (
    <span
      className={`evidence ${ok ? 'ok' : 'missing'}`}
      data-testid="evidence"
      title={ok ? 'every link present' : `missing: ${evidence.missing.join(', ')}`}
    >
      {LINKS.map((link) => (
        <span key={link} className={evidence[link] ? 'link ok' : 'link missing'}>
          {link[0]!.toUpperCase()}
        </span>
      ))}
    </span>
  );
}

export function SyncBadge({ state, health }: { state: SyncState; health?: string }) {
  return (
    <span className={`sync ${state}`} data-testid="sync">
      {state}
      {health ? ` · ${health}` : ''}
    </span>
  );
}

export function Failure({ error }: { error?: ApiError }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error.code}: {error.message}
    </p>
  );
}

export function Loading() {
  return <p className="muted">loading…</p>;
}
