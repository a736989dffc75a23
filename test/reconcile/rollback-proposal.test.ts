import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceOf, recordEvidence } from '../../src/domain/evidence.ts';
import type { Forge, OpenProposalRequest, Proposal } from '../../src/domain/forge.ts';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { writeFiles } from '../../src/gitops/seed.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { requestRollback } from '../../src/reconcile/rollback.ts';
import { freshStore } from '../support/stores.ts';
import { testSigner } from '../support/signer.ts';
import { writeAllowedSigners } from '../../src/gitops/allowed-signers.ts';

/** The one forge call rollback makes, over a real bare repository. */
function recordingForge(repositoryUrl: string, opened: OpenProposalRequest[]): Forge {
  const refuse = () => Promise.reject(new Error('not used by rollback'));
  return {
    repositoryUrl,
    openProposal: async (request) => {
      opened.push(request);
      return {
        id: `P-${opened.length}`,
        ...request,
        baseBranch: 'main',
        baseCommit: '',
        headCommit: '',
        lastPusher: request.author,
        state: 'open',
        createdAt: new Date().toISOString(),
      } as Proposal;
    },
    getProposal: refuse,
    listProposals: refuse,
    recordPush: refuse,
    review: refuse,
    listReviews: refuse,
    setStatus: refuse,
    listStatuses: refuse,
    merge: refuse,
  };
}

describe('rollback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollback-'));
  const bare = join(dir, 'repo.git');
  const work = join(dir, 'work');
  let ledger: Ledger;
  let dispose: () => Promise<void>;
  const commits: string[] = [];

  beforeAll(async () => {
    const store = await freshStore('sqlite');
    ledger = new Ledger(store.store);
    dispose = store.dispose;
    await git(['init', '--bare', '--initial-branch=main', bare], { cwd: dir });
    await git(['clone', '-q', bare, work], { cwd: dir });
    for (const digest of ['aa', 'bb']) {
      writeFiles(work, {
        'apps/web/overlays/prod/kustomization.yaml': `images:\n  - name: web\n    digest: sha256:${digest.repeat(32)}\n`,
      });
      await git(['add', '-A'], { cwd: work });
      await git([...identityArgs('Dev', 'dev@example.test'), 'commit', '-qm', digest], {
        cwd: work,
      });
      await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
      const commit = (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
      commits.push(commit);
      const n = commits.length;
      await recordEvidence(
        ledger,
        'sync.completed',
        `deployment:prod/web/${n}`,
        'system:cd-engine',
        {
          deployment: `prod/web/${n}`,
          app: 'prod/web',
          env: 'prod',
          service: 'web',
          configCommit: commit,
          images: [],
          desiredDigest: 'sha256:d',
          liveDigest: 'sha256:d',
          startedAt: '',
          finishedAt: '',
          initiator: 'test',
          health: 'Healthy',
        },
      );
    }
  });
  afterAll(async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const signer = testSigner();

  it('opens a revert proposal restoring the overlay of the earlier deployment, and records it', async () => {
    const opened: OpenProposalRequest[] = [];
    const proposal = await requestRollback(recordingForge(bare, opened), ledger, {
      env: 'prod',
      service: 'web',
      actor: 'alice',
      reason: 'error rate up',
      emergency: true,
      signer,
    });
    expect(proposal.title).toBe('[emergency] Roll back prod/web to prod/web/1');
    const branchFile = await git(
      ['show', `${opened[0]!.branch}:apps/web/overlays/prod/kustomization.yaml`],
      { cwd: bare },
    );
    expect(branchFile).toBe(
      readFileSync(join(work, 'apps/web/overlays/prod/kustomization.yaml'), 'utf8').replace(
        'bb'.repeat(32),
        'aa'.repeat(32),
      ),
    );
    // The forge merges signed commits only: the revert must verify with the signer's key.
    const allowed = join(dir, 'allowed_signers');
    writeAllowedSigners(allowed, [{ principal: 'pipeline', publicKey: signer.publicKeyPem }]);
    await git(['-c', `gpg.ssh.allowedSignersFile=${allowed}`, 'verify-commit', opened[0]!.branch], {
      cwd: bare,
    });
    const [requested] = await ledger.list({ kind: 'rollback.requested' });
    expect(evidenceOf(requested!, 'rollback.requested')).toMatchObject({
      app: 'prod/web',
      toCommit: commits[0],
      proposal: 'P-1',
    });
  });

  it('refuses an unknown deployment', async () => {
    await expect(
      requestRollback(recordingForge(bare, []), ledger, {
        env: 'prod',
        service: 'web',
        to: 'prod/web/9',
        actor: 'alice',
        reason: 'x',
        signer,
      }),
    ).rejects.toMatchObject({ code: 'DEPLOYMENT_UNKNOWN' });
  });
});
