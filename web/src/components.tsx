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

/** One page of a diff, added and removed lines marked, with a pager when there is more. */
export function PagedDiff({
  diff,
  onPage,
}: {
  diff: { page: number; pages: number; totalLines: number; lines: string[] };
  onPage(page: number): void;
}) {
  return (
    <div className="diff-box">
      <pre className="diff">
        {diff.lines.map((line, i) => (
          <span
            key={i}
            className={line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : ''}
          >
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
      {diff.pages > 1 ? (
        <div className="pager" data-testid="diff-pager">
          <button disabled={diff.page <= 1} onClick={() => onPage(diff.page - 1)}>
            previous
          </button>
          page {diff.page} of {diff.pages} ({diff.totalLines} lines)
          <button disabled={diff.page >= diff.pages} onClick={() => onPage(diff.page + 1)}>
            next
          </button>
        </div>
      ) : null}
    </div>
  );
}
