import { useState } from 'react';
import type { AppDetail, Me } from '../../../src/server/routes/read-api-types.ts';
import { api, ApiError, short, useResource, when } from '../api.ts';
import { EvidenceBadge, Failure, Loading, SyncBadge } from '../components.tsx';

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

function RollbackButton({ app, me }: { app: string; me: Me }) {
  const [message, setMessage] = useState<string>();
  const route = me.actions.rollback;
  if ('disabled' in route) {
    return (
      <button disabled title={route.disabled}>
        Roll back (unavailable: {route.disabled})
      </button>
    );
  }
  const [env, service] = app.split('/');
  const url = route.url.replace(':env', env!).replace(':service', service!);
  const rollback = async () => {
    try {
      await api(url, {
        method: route.method,
        body: JSON.stringify({ reason: 'rollback from the dashboard' }),
      });
      setMessage('rollback proposal opened');
    } catch (error) {
      setMessage(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
    }
  };
  return (
    <p>
      <button onClick={rollback}>Roll back</button> {message}
    </p>
  );
}
