import { useEffect, useMemo } from 'react';
import type { Matrix, MatrixCell } from '../../../src/server/routes/read-api-types.ts';
import { short, useResource } from '../api.ts';
import { EvidenceBadge, Failure, Loading, SyncBadge } from '../components.tsx';

/** Environments by services: what runs where, and whether its evidence is complete. */
export function MatrixPage() {
  const { data, error } = useResource<Matrix>('/api/matrix');
  const byKey = useMemo(() => new Map((data?.cells ?? []).map((cell) => [cell.app, cell])), [data]);
  useEffect(() => {
    // Read by the benchmark: the first paint of a matrix with data.
    if (data) performance.mark('matrix-rendered', { detail: { headSeq: data.headSeq } });
  }, [data]);
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  return (
    <section>
      <h1>Environments × services</h1>
      <Failure error={error} />
      <table className="matrix" data-testid="matrix">
        <thead>
          <tr>
            <th>service</th>
            {data.environments.map((env) => (
              <th key={env}>{env}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.services.map((service) => (
            <tr key={service}>
              <th scope="row">{service}</th>
              {data.environments.map((env) => (
                <Cell key={env} cell={byKey.get(`${env}/${service}`)} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Cell({ cell }: { cell: MatrixCell | undefined }) {
  if (!cell) return <td />;
  return (
    <td data-app={cell.app} className={`cell ${cell.sync}`}>
      <a href={`#/apps/${cell.app}`}>
        <SyncBadge state={cell.sync} health={cell.health} />
      </a>
      {cell.deployment ? (
        <div className="facts">
          <code title={cell.digest}>{short(cell.digest)}</code>{' '}
          <code title={cell.configCommit}>{short(cell.configCommit, 7)}</code>
          {cell.change ? <span className="change"> {cell.change}</span> : null}
          <div>
            <a href={`#/deployments/${cell.deployment}`}>
              <EvidenceBadge evidence={cell.evidence} />
            </a>
          </div>
        </div>
      ) : cell.reason ? (
        <div className="facts reason">{cell.reason}</div>
      ) : null}
    </td>
  );
}
