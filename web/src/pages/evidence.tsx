import type { DeploymentEvidence } from '../../../src/server/routes/read-api-types.ts';
import { short, useResource, when } from '../api.ts';
import { EvidenceBadge, Failure, Loading } from '../components.tsx';

/** The three audit questions about one deployment, laid out to print. */
export function EvidencePage({ id }: { id: string }) {
  const { data, error } = useResource<DeploymentEvidence>(`/api/deployments/${id}/evidence`);
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  const { deployment: d, whoApproved: who, whatDeployed: what, doesItMatch: match } = data;
  return (
    <section className="evidence-page">
      <h1>
        Deployment {d.id} <EvidenceBadge evidence={data.evidence} />
      </h1>
      <p className="muted">
        {d.service} in {d.env}, deployed {when(d.at)} by {d.initiator ?? '—'} from config commit{' '}
        <code>{d.configCommit}</code>
        <button className="no-print" onClick={() => window.print()}>
          Print
        </button>
      </p>
      <h2>1. Who approved it?</h2>
      {who.proposal ? (
        <p>
          Proposal {who.proposal.id} by {who.proposal.author}, last push {who.proposal.lastPusher},
          merged by {who.proposal.mergedBy} ({who.proposal.path} path).
        </p>
      ) : (
        <p className="error">No merge of this commit in the ledger.</p>
      )}
      <table>
        <thead>
          <tr>
            <th>identity</th>
            <th>roles</th>
            <th>when</th>
            <th>as</th>
            <th>entry</th>
          </tr>
        </thead>
        <tbody>
          {who.approvals.map((a) => (
            <tr key={`${a.source}-${a.identity}-${a.seq}`}>
              <td>{a.identity}</td>
              <td>{a.roles.join(', ')}</td>
              <td>{when(a.at)}</td>
              <td>{a.source}</td>
              <td>#{a.seq}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {who.change ? (
        <p>
          Change {who.change.id} ({who.change.type}):{' '}
          {who.change.states.map((s) => s.to).join(' → ') || 'opened'}
        </p>
      ) : null}
      <p className={`verdict ${who.separationOfDuties.verdict}`}>
        Separation of duties: {who.separationOfDuties.verdict}
        {who.separationOfDuties.reasons.length
          ? ` (${who.separationOfDuties.reasons.join('; ')})`
          : ''}
      </p>
      <h2>2. What exactly was deployed?</h2>
      <table>
        <thead>
          <tr>
            <th>image</th>
            <th>digest</th>
            <th>source</th>
            <th>SBOM</th>
            <th>scan</th>
            <th>signed by</th>
          </tr>
        </thead>
        <tbody>
          {what.images.map((image) => (
            <tr key={image.digest}>
              <td>{image.name}</td>
              <td>
                <code>{image.digest}</code>
              </td>
              <td>
                {image.sourceRepo ?? '—'} <code>{short(image.sourceCommit, 7)}</code>
              </td>
              <td>
                <code>{short(image.sbomDigest)}</code>
              </td>
              <td>{image.scanVerdict ?? 'missing'}</td>
              <td>{image.signedBy ?? 'unsigned'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>3. Does the running cluster match what was approved?</h2>
      <p className={`verdict ${match.verdict}`}>Verdict: {match.verdict}</p>
      <table className="facts-table">
        <tbody>
          <tr>
            <th>approved desired state</th>
            <td>
              <code>{match.approvedDigest ?? '—'}</code>
            </td>
          </tr>
          <tr>
            <th>applied desired state</th>
            <td>
              <code>{match.appliedDigest ?? '—'}</code>
            </td>
          </tr>
          <tr>
            <th>live state at sync</th>
            <td>
              <code>{match.liveDigestAtSync ?? '—'}</code>
            </td>
          </tr>
        </tbody>
      </table>
      <p>
        Verifications since:{' '}
        {match.verifications.length === 0
          ? 'none'
          : match.verifications
              .map((v) => `${when(v.at)} ${v.equal ? 'equal' : 'DIFFERENT'}`)
              .join('; ')}
      </p>
      <p>
        Drift since:{' '}
        {match.drifts.length === 0
          ? 'none'
          : match.drifts
              .map(
                (drift) =>
                  `${drift.object} (${drift.fields.join(', ')}) by ${drift.fieldManager}, ${drift.action}`,
              )
              .join('; ')}
      </p>
      <p className="muted">Ledger entries: {data.entries.map((seq) => `#${seq}`).join(' ')}</p>
    </section>
  );
}
