import type { Forge, Proposal } from '../../domain/forge.ts';
import { ChangeproofError } from '../../errors.ts';
import { git } from '../../gitops/git.ts';
import type { EvidenceIndex } from './read-api-index.ts';
import type { DiffPage, ProposalView, ReviewView } from './read-api-types.ts';

/** Lines of unified diff per page: a huge diff arrives in pages and the page stays responsive. */
export const DIFF_PAGE_LINES = 400;

/**
 * Proposals as the dashboard shows them. With a forge they come from it (reviews and statuses as
 * they are now); without one they are rebuilt from the ledger's proposal and review entries.
 */
export async function listProposals(
  index: EvidenceIndex,
  forge: Forge | undefined,
  state: 'open' | 'all',
): Promise<ProposalView[]> {
  const views = forge ? await fromForge(index, forge, state) : fromLedger(index);
  const filtered = state === 'open' ? views.filter((view) => view.state === 'open') : views;
  return filtered.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

export async function getProposal(
  index: EvidenceIndex,
  forge: Forge | undefined,
  id: string,
): Promise<ProposalView> {
  const found = (await listProposals(index, forge, 'all')).find((view) => view.id === id);
  if (!found) {
    throw new ChangeproofError('PROPOSAL_UNKNOWN', `no proposal ${id}`, { category: 'not-found' });
  }
  return found;
}

/** One page of the proposal's unified diff, base to head, read from the config repo. */
export async function proposalDiff(
  configRepo: string,
  proposal: ProposalView,
  page: number,
): Promise<DiffPage> {
  const text = await git(
    ['diff', '--no-color', '--no-ext-diff', `${proposal.baseCommit}..${proposal.headCommit}`],
    { cwd: configRepo },
  );
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { proposal: proposal.id, ...pageOfLines(lines, page) };
}

/** Page `page` (clamped to the pages there are) of a diff's lines, {@link DIFF_PAGE_LINES} each. */
export function pageOfLines(
  lines: readonly string[],
  page: number,
): { page: number; pages: number; totalLines: number; lines: string[] } {
  const pages = Math.max(1, Math.ceil(lines.length / DIFF_PAGE_LINES));
  const current = Math.min(Math.max(page, 1), pages);
  const start = (current - 1) * DIFF_PAGE_LINES;
  return {
    page: current,
    pages,
    totalLines: lines.length,
    lines: lines.slice(start, start + DIFF_PAGE_LINES),
  };
}

async function fromForge(
  index: EvidenceIndex,
  forge: Forge,
  state: 'open' | 'all',
): Promise<ProposalView[]> {
  const proposals = await forge.listProposals(state === 'open' ? { state: 'open' } : undefined);
  return Promise.all(
    proposals.map(async (proposal) => {
      const [reviews, statuses] = await Promise.all([
        forge.listReviews(proposal.id),
        forge.listStatuses(proposal.headCommit),
      ]);
      return viewOf(index, proposal, {
        reviews: reviews.map((r) => ({
          reviewer: r.reviewer,
          state: r.state,
          commit: r.commit,
          at: r.submittedAt,
        })),
        statuses: statuses.map(({ context, state: s, description }) => ({
          context,
          state: s,
          description,
        })),
      });
    }),
  );
}

function fromLedger(index: EvidenceIndex): ProposalView[] {
  const cache = index.cache;
  const merged = new Map(cache.all('proposal.merged').map((m) => [m.payload.proposal, m]));
  return cache.all('proposal.opened').map((opened) => {
    const p = opened.payload;
    const pushes = cache.all('proposal.pushed').filter((e) => e.payload.proposal === p.proposal);
    const lastPush = pushes.at(-1)?.payload;
    const proposal: Proposal = {
      id: p.proposal,
      title: `${p.service} to ${p.env}`,
      description: '',
      author: p.author,
      branch: p.branch,
      baseBranch: 'main',
      baseCommit: p.baseCommit,
      headCommit: lastPush?.headCommit ?? p.headCommit,
      lastPusher: lastPush?.pusher ?? p.author,
      state: merged.has(p.proposal) ? 'merged' : 'open',
      createdAt: opened.time,
      service: p.service,
      env: p.env,
    };
    const reviews = cache
      .all('proposal.reviewed')
      .filter((e) => e.payload.proposal === p.proposal)
      .map((e) => ({
        reviewer: e.payload.reviewer,
        state: e.payload.state,
        commit: e.payload.commit,
        at: e.time,
      }));
    const statuses = cache
      .all('gate.verdict')
      .filter((e) => e.payload.proposal === p.proposal)
      .map((e) => ({
        context: e.payload.context,
        state: e.payload.state,
        description: e.payload.rule,
      }));
    return viewOf(index, proposal, { reviews, statuses });
  });
}

function viewOf(
  index: EvidenceIndex,
  proposal: Proposal,
  extra: { reviews: ReviewView[]; statuses: ProposalView['statuses'] },
): ProposalView {
  const opened = index.cache.all('proposal.opened').find((e) => e.payload.proposal === proposal.id);
  const change = index.cache.all('change.opened').find((e) => e.payload.proposal === proposal.id);
  const current = extra.reviews.filter(
    (r) => r.commit === proposal.headCommit && r.state !== 'dismissed',
  );
  const latestByReviewer = new Map(current.map((r) => [r.reviewer, r.state]));
  const states = [...latestByReviewer.values()];
  return {
    id: proposal.id,
    title: proposal.title,
    author: proposal.author,
    lastPusher: proposal.lastPusher,
    state: proposal.state,
    baseCommit: proposal.baseCommit,
    headCommit: proposal.headCommit,
    createdAt: proposal.createdAt,
    service: proposal.service ?? opened?.payload.service,
    env: proposal.env ?? opened?.payload.env,
    routine: opened?.payload.routine,
    changedPaths: opened?.payload.changedPaths ?? [],
    evidence: {
      artifact: change?.payload.artifact ?? opened?.payload.image,
      sbomDigest: change?.payload.sbomDigest,
      signer: change?.payload.signer,
      scanVerdict: change?.payload.scanVerdict,
    },
    reviews: extra.reviews,
    statuses: extra.statuses,
    approval: states.includes('changes_requested')
      ? 'changes_requested'
      : states.includes('approved')
        ? 'approved'
        : 'pending',
  };
}
