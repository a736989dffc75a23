import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { recordEvidence } from '../../src/domain/evidence.ts';
import { bumpImageTag, commitFilesSigned } from '../../src/embedded/forge/commit-files.ts';
import { git } from '../../src/gitops/git.ts';
import { startPlane, type Plane } from '../dashboard/fixtures.ts';

const overlay = 'apps/checkout/overlays/prod/kustomization.yaml';

describe('POST /api/v1/apps/:env/:service/rollback', () => {
  let sut: Plane;
  const commits: string[] = [];

  /** Two deployments of prod/checkout whose config commits really are on main. */
  beforeAll(async () => {
    sut = await startPlane();
    const { ws } = sut;
    for (const [n, tag] of [
      [1, 'v1'],
      [2, 'v2'],
    ] as const) {
      const lease = await ws.broker.openLease({ holder: 't', scopes: ['sign:pipeline'] });
      const text = await git(['show', `main:${overlay}`], { cwd: ws.paths.configRepo });
      const commit = await commitFilesSigned({
        gitDir: ws.paths.configRepo,
        branch: 'main',
        files: { [overlay]: bumpImageTag(text, tag) },
        message: tag,
        author: { name: 'pipeline', email: 'p@x' },
        signer: await ws.broker.signer(lease.id, 'pipeline'),
      });
      commits.push(commit);
      await recordEvidence(
        ws.ledger,
        'sync.completed',
        `deployment:prod/checkout/${n}`,
        'system:cd-engine',
        {
          deployment: `prod/checkout/${n}`,
          app: 'prod/checkout',
          env: 'prod',
          service: 'checkout',
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
  afterAll(() => sut?.close());

  const post = (user: string | undefined, body: unknown) =>
    fetch(`${sut.url}/api/v1/apps/prod/checkout/rollback`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(user ? { authorization: `Bearer ${sut.tokens[user]}` } : {}),
      },
      body: JSON.stringify(body),
    });

  it('refuses without a token and for an auditor, opening nothing', async () => {
    expect((await post(undefined, { reason: 'error rate up' })).status).toBe(401);
    const auditor = await post('erin', { reason: 'error rate up' });
    expect(auditor.status).toBe(403);
    expect(((await auditor.json()) as { error: { code: string } }).error.code).toBe(
      'ROLE_REQUIRED',
    );
    expect(await changeManagementFor(sut.ws).forge.listProposals()).toEqual([]);
  });

  it('refuses a malformed body with 400', async () => {
    expect((await post('alice', { reason: 'x' })).status).toBe(400);
  });

  it('opens a signed revert proposal for a developer, restoring the earlier overlay', async () => {
    const response = await post('alice', { reason: 'error rate up after v2' });
    expect(response.status).toBe(201);
    const { proposal } = (await response.json()) as { proposal: string };
    const opened = await changeManagementFor(sut.ws).forge.getProposal(proposal);
    expect(opened).toMatchObject({ author: 'alice', state: 'open' });
    const cwd = sut.ws.paths.configRepo;
    const restored = await git(['show', `${opened.headCommit}:${overlay}`], { cwd });
    expect(restored).toBe(await git(['show', `${commits[0]}:${overlay}`], { cwd }));
    const [requested] = await sut.ws.ledger.list({ kind: 'rollback.requested' });
    expect(requested?.actor).toBe('alice');
  });
});
