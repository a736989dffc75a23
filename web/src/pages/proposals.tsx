import { useState } from 'react';
import type { DiffPage, Me, ProposalView } from '../../../src/server/routes/read-api-types.ts';
import { api, ApiError, short, useResource, when } from '../api.ts';
import { Failure, Loading, PagedDiff } from '../components.tsx';

const APPROVER_ROLES = ['approver', 'cab'];

/** Proposals waiting for approval, each with its diff, evidence and a review form. */
export function ProposalsPage({ me }: { me: Me }) {
  const { data, error, reload } = useResource<{ items: ProposalView[] }>(
    '/api/proposals?state=open',
  );
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  return (
    <section>
      <h1>Proposals waiting ({data.items.length})</h1>
      {data.items.length === 0 ? <p className="muted">nothing is waiting for review</p> : null}
      {data.items.map((proposal) => (
        <Proposal key={proposal.id} proposal={proposal} me={me} onReviewed={reload} />
      ))}
    </section>
  );
}

function Proposal({
  proposal,
  me,
  onReviewed,
}: {
  proposal: ProposalView;
  me: Me;
  onReviewed(): void;
}) {
  const e = proposal.evidence;
  return (
    <article className="proposal" data-proposal={proposal.id}>
      <h2>
        {proposal.title}{' '}
        <span className={`approval ${proposal.approval}`} data-testid="approval">
          {proposal.approval.replace('_', ' ')}
        </span>
      </h2>
      <p className="muted">
        {proposal.id} by {proposal.author} (last push {proposal.lastPusher}),{' '}
        {when(proposal.createdAt)}; head <code>{short(proposal.headCommit, 7)}</code>
        {proposal.routine ? ', routine (image reference only)' : ''}
      </p>
      <dl className="evidence-list">
        <dt>artifact</dt>
        <dd>
          <code>{e.artifact ?? 'missing'}</code>
        </dd>
        <dt>SBOM</dt>
        <dd>
          <code>{short(e.sbomDigest)}</code>
        </dd>
        <dt>signer</dt>
        <dd>{e.signer ?? 'missing'}</dd>
        <dt>scan</dt>
        <dd>{e.scanVerdict ?? 'missing'}</dd>
        <dt>checks</dt>
        <dd>{proposal.statuses.map((s) => `${s.context}: ${s.state}`).join('; ') || 'none'}</dd>
        <dt>reviews</dt>
        <dd>
          {proposal.reviews
            .map((r) => `${r.reviewer} ${r.state} ${short(r.commit, 7)}`)
            .join('; ') || 'none'}
        </dd>
      </dl>
      <Diff id={proposal.id} />
      <ReviewForm proposal={proposal} me={me} onReviewed={onReviewed} />
    </article>
  );
}

/** The diff a page at a time, so a huge diff never blocks the page. */
function Diff({ id }: { id: string }) {
  const [page, setPage] = useState(1);
  const { data, error } = useResource<DiffPage>(`/api/proposals/${id}/diff?page=${page}`);
  if (!data) return error ? <Failure error={error} /> : <Loading />;
  return <PagedDiff diff={data} onPage={setPage} />;
}

function ReviewForm({
  proposal,
  me,
  onReviewed,
}: {
  proposal: ProposalView;
  me: Me;
  onReviewed(): void;
}) {
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const route = me.actions.review;
  const reason =
    'disabled' in route
      ? route.disabled
      : !me.roles.some((role) => APPROVER_ROLES.includes(role))
        ? `${me.name} has no approver role`
        : me.name === proposal.author
          ? 'you cannot approve your own change'
          : me.name === proposal.lastPusher
            ? 'you pushed the last commit; another person must approve'
            : undefined;
  const submit = async (state: 'approved' | 'changes_requested') => {
    if ('disabled' in route) return;
    setBusy(true);
    try {
      await api(route.url.replace(':id', encodeURIComponent(proposal.id)), {
        method: route.method,
        body: JSON.stringify({ state, commit: proposal.headCommit }),
      });
      setMessage({ ok: true, text: state === 'approved' ? 'approved' : 'changes requested' });
      onReviewed();
    } catch (error) {
      const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
      setMessage({ ok: false, text });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="review" onSubmit={(event) => event.preventDefault()}>
      <button
        type="button"
        disabled={busy || reason !== undefined}
        onClick={() => submit('approved')}
      >
        Approve {short(proposal.headCommit, 7)}
      </button>{' '}
      <button
        type="button"
        disabled={busy || reason !== undefined}
        onClick={() => submit('changes_requested')}
      >
        Request changes
      </button>
      {reason ? (
        <span className="muted" data-testid="review-disabled">
          {' '}
          {reason}
        </span>
      ) : null}
      {message ? (
        <p className={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      ) : null}
    </form>
  );
}
