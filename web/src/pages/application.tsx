import { useState } from 'react';
import type { AppDetail, LiveDiffPage, Me } from '../../../src/server/routes/read-api-types.ts';
import { api, ApiError, short, useResource, when } from '../api.ts';
import { EvidenceBadge, Failure, Loading, PagedDiff, SyncBadge } from '../components.tsx';

/** One application: desired against live, drifts with incidents, and the whole history. */
export function ApplicationPage({ app, me }: { app: string; me: Me }) {
  const [cursor, setCursor] = useState<string | undefined>();
  const query = cursor ? `?cursor=${cursor}` : '';
  const { data, error } = useResource<AppDetail>(`/api/apps/${app}${query}`);
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  const { cell, desired } = data;
  const equal = desired.lastVerification?.equal;
  return (
    <section>
      <h1>
        {cell.service} <span className="muted">in {cell.env}</span>{' '}
        <SyncBadge state={cell.sync} health={cell.health} />
      </h1>
      <RollbackButton app={app} me={me} />
      <h2>Desired against live</h2>
      <table className="facts-table">
        <tbody>
          <tr>
            <th>config commit</th>
            <td>
              <code>{desired.configCommit ?? '—'}</code>
            </td>
          </tr>
          <tr>
            <th>desired-state digest</th>
            <td>
              <code>{desired.desiredDigest ?? '—'}</code>
            </td>
          </tr>
          <tr>
            <th>live digest at sync</th>
            <td>
              <code>{desired.liveDigestAtSync ?? '—'}</code>
            </td>
          </tr>
          <tr>
            <th>last verification</th>
            <td>
              {desired.lastVerification
                ? `${when(desired.lastVerification.at)}: ${equal ? 'live equals desired' : 'live differs'}`
                : 'none yet'}
            </td>
          </tr>
        </tbody>
      </table>
      <LiveDiffView app={app} />
      <h2>Drift and incidents</h2>
      {data.drifts.length === 0 ? <p className="muted">no drift recorded</p> : null}
      <ul className="drifts">
        {data.drifts.map((drift) => (
          <li key={drift.seq} data-testid="drift">
            <strong>{drift.object}</strong> {drift.fields.join(', ')} by {drift.fieldManager},{' '}
            {when(drift.at)}, {drift.action}
            {drift.revertedAt ? `, reverted ${when(drift.revertedAt)}` : ''}
            {drift.incident ? (
              <span className="incident">
                {' '}
                incident {drift.incident.id}
                {drift.incident.resolvedAt ? ` resolved: ${drift.incident.resolution}` : ' open'}
              </span>
            ) : null}
            <pre className="diff">{drift.diff}</pre>
          </li>
        ))}
      </ul>
      <h2>Deployment history ({data.history.total})</h2>
      <table className="history" data-testid="history">
        <thead>
          <tr>
            <th>deployment</th>
            <th>when</th>
            <th>outcome</th>
            <th>commit</th>
            <th>change</th>
            <th>images</th>
          </tr>
        </thead>
        <tbody>
          {data.history.items.map((d) => (
            <tr key={d.seq}>
              <td>
                {d.outcome === 'completed' ? <a href={`#/deployments/${d.id}`}>{d.id}</a> : d.id}
              </td>
              <td>{when(d.at)}</td>
              <td className={`outcome ${d.outcome}`}>
                {d.outcome}
                {d.reason ? `: ${d.reason}` : ''}
              </td>
              <td>
                <code>{short(d.configCommit, 7)}</code>
              </td>
              <td>{d.change ?? '—'}</td>
              <td>
                {d.images.map((i) => (
                  <code key={i.digest}>{short(i.digest)} </code>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        {cursor ? <button onClick={() => setCursor(undefined)}>newest</button> : null}
        {data.history.next ? (
          <button onClick={() => setCursor(data.history.next)}>older</button>
        ) : null}
      </div>
      {cell.deployment ? (
        <p>
          Evidence of the live deployment:{' '}
          <a href={`#/deployments/${cell.deployment}`}>
            <EvidenceBadge evidence={cell.evidence} />
          </a>
        </p>
      ) : null}
    </section>
  );
}

/**
 * Opens a rollback proposal. Offered only when the server says this person may roll back; for
 * anyone else (an auditor, a CAB member) the button stays disabled with the server's reason.
 */
/** The desired manifests against the live objects now, field by field, a page at a time. */
function LiveDiffView({ app }: { app: string }) {
  const [page, setPage] = useState(1);
  const { data, error } = useResource<LiveDiffPage>(`/api/apps/${app}/live-diff?page=${page}`);
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  return (
    <div data-testid="live-diff">
      <p className="muted">
        desired at <code>{short(data.commit, 7)}</code> against the cluster now
      </p>
      <PagedDiff diff={data} onPage={setPage} />
    </div>
  );
}

function RollbackButton({ app, me }: { app: string; me: Me }) {
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const route = me.actions.rollback;
  if ('disabled' in route) {
    return (
      <p data-testid="rollback">
        <button disabled title={route.disabled}>
          Roll back
        </button>{' '}
        <span className="muted">{route.disabled}</span>
      </p>
    );
  }
  const [env, service] = app.split('/');
  const url = route.url.replace(':env', env!).replace(':service', service!);
  const rollback = async () => {
    setBusy(true);
    try {
      const opened = await api<{ proposal: string }>(url, {
        method: route.method,
        body: JSON.stringify({ reason: 'rollback from the dashboard' }),
      });
      setOutcome({ ok: true, text: `rollback proposal ${opened.proposal} opened` });
    } catch (error) {
      const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
      setOutcome({ ok: false, text });
    } finally {
      setBusy(false);
    }
  };
  return (
    <p data-testid="rollback">
      <button disabled={busy} onClick={rollback}>
        Roll back
      </button>{' '}
      {outcome ? (
        <span className={outcome.ok ? 'ok' : 'error'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.text}
          {outcome.ok ? (
            <>
              {': '}
              <a href="#/proposals">review it</a>
            </>
          ) : null}
        </span>
      ) : null}
    </p>
  );
}
