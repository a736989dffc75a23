import { git } from '../../../src/gitops/git.ts';
import type { Forge, OpenProposalRequest, Proposal } from '../../../src/domain/forge.ts';

/**
 * The Forge port over a bare repo, for the delivery tests: it checks that the proposed branch
 * really was pushed and keeps the proposals it opened. Review and merge belong to the forge's
 * own tests and are not used here.
 */
export class BareRepoForge implements Forge {
  readonly proposals: Proposal[] = [];

  constructor(readonly repositoryUrl: string) {}

  async openProposal(request: OpenProposalRequest): Promise<Proposal> {
    const baseBranch = request.baseBranch ?? 'main';
    const rev = (ref: string) =>
      git(['rev-parse', '--verify', ref], { cwd: this.repositoryUrl }).then((out) => out.trim());
    const proposal: Proposal = {
      id: String(this.proposals.length + 1),
      title: request.title,
      description: request.description,
      author: request.author,
      branch: request.branch,
      baseBranch,
      baseCommit: await rev(`refs/heads/${baseBranch}`),
      headCommit: await rev(`refs/heads/${request.branch}`),
      lastPusher: request.author,
      state: 'open',
      createdAt: new Date().toISOString(),
    };
    this.proposals.push(proposal);
    return proposal;
  }

  async getProposal(id: string): Promise<Proposal> {
    const found = this.proposals.find((proposal) => proposal.id === id);
    if (!found) throw new Error(`no proposal ${id}`);
    return found;
  }

  async listProposals(): Promise<Proposal[]> {
    return this.proposals;
  }

  recordPush(): never {
    throw new Error('not used by delivery');
  }
  review(): never {
    throw new Error('not used by delivery');
  }
  listReviews(): never {
    throw new Error('not used by delivery');
  }
  setStatus(): never {
    throw new Error('not used by delivery');
  }
  listStatuses(): never {
    throw new Error('not used by delivery');
  }
  merge(): never {
    throw new Error('not used by delivery');
  }
}
