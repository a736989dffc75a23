import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { evidenceOf } from '../../src/domain/evidence.ts';
import { approvedDesiredDigests } from '../../src/embedded/forge/desired-digests.ts';
import { isImageReferenceEdit } from '../../src/embedded/forge/diff.ts';
import { keyIdOf } from '../../src/embedded/secret-broker/keys.ts';
import { git } from '../../src/gitops/git.ts';
import { createTestBed, propose, type TestBed } from '../change/helpers.ts';

function run(args: string[], cwd: string): string {
  return execFileSync(args[0]!, args.slice(1), {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH!,
      HOME: cwd,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    },
  });
}

describe('embedded forge', () => {
  let bed: TestBed;
  beforeAll(async () => {
    bed = await createTestBed();
  });
  afterAll(() => bed.dispose());

  it('classifies only image reference edits as routine', () => {
    const before =
      'images:\n  - name: checkout\n    newName: r/checkout\n    newTag: v1\nnamespace: a\n';
    expect(isImageReferenceEdit(before, before.replace('newTag: v1', 'newTag: v2'))).toBe(true);
    expect(isImageReferenceEdit(before, before.replace('newTag: v1', 'digest: sha256:ab'))).toBe(
      true,
    );
    expect(isImageReferenceEdit(before, before.replace('namespace: a', 'namespace: b'))).toBe(
      false,
    );
    expect(isImageReferenceEdit(before, before.replace('name: checkout', 'name: other'))).toBe(
      false,
    );
    expect(isImageReferenceEdit(before, `${before}# a comment\n`)).toBe(false);
    expect(
      isImageReferenceEdit(
        before,
        before.replace('    newTag: v1\n', '    newTag: v1\n    newTag: v2\n'),
      ),
    ).toBe(false);
  });

  it('refuses to merge unsigned commits and commits signed by an unlisted key', async () => {
    const main = await bed.mainHead();
    const tree = (
      await git(['rev-parse', `${main}^{tree}`], { cwd: bed.ws.paths.configRepo })
    ).trim();
    const path = 'apps/checkout/overlays/dev/kustomization.yaml';
    const signed = await bed.bump('unsigned', 'dev', 'v9');
    const signedTree = (
      await git(['rev-parse', `${signed}^{tree}`], { cwd: bed.ws.paths.configRepo })
    ).trim();
    expect(signedTree).not.toBe(tree);
    const unsigned = (
      await git(
        [
          '-c',
          'user.name=x',
          '-c',
          'user.email=x@x',
          'commit-tree',
          signedTree,
          '-p',
          main,
          '-m',
          'unsigned bump',
        ],
        { cwd: bed.ws.paths.configRepo },
      )
    ).trim();
    await git(['update-ref', 'refs/heads/unsigned', unsigned], { cwd: bed.ws.paths.configRepo });
    const proposal = await propose(bed, 'unsigned');
    expect(proposal.changedPaths).toEqual([path]);
    await expect(bed.cm.service.merge(bed.as('alice'), proposal.id)).rejects.toMatchObject({
      code: 'UNSIGNED_COMMIT',
      message: expect.stringMatching(/is not signed/),
    });

    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const strangerPem = stranger.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { commitFilesSigned, bumpImageTag } =
      await import('../../src/embedded/forge/commit-files.ts');
    await commitFilesSigned({
      gitDir: bed.ws.paths.configRepo,
      branch: 'stranger',
      files: { [path]: bumpImageTag(await bed.readMain(path), 'v10') },
      message: 'bump by a stranger',
      author: { name: 'mallory', email: 'm@x' },
      signer: {
        keyId: keyIdOf(strangerPem),
        publicKeyPem: strangerPem,
        sign: async (data) =>
          (await import('node:crypto')).sign('sha256', data, stranger.privateKey),
      },
    });
    const strangers = await propose(bed, 'stranger');
    await expect(bed.cm.service.merge(bed.as('alice'), strangers.id)).rejects.toMatchObject({
      code: 'UNSIGNED_COMMIT',
      message: expect.stringMatching(/not an allowed signer/),
    });
    expect(await bed.mainHead()).toBe(main);
  });

  it('accepts a commit signed by a listed human key through ssh-keygen and git verify-commit', async () => {
    const keys = join(bed.root, 'human');
    mkdirSync(keys);
    run(
      ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'dave', '-f', join(keys, 'dave')],
      keys,
    );
    mkdirSync(join(bed.ws.paths.keysDir, 'signers'), { recursive: true });
    writeFileSync(
      join(bed.ws.paths.keysDir, 'signers', 'dave.pub'),
      run(['cat', join(keys, 'dave.pub')], keys),
    );
    const cm = changeManagementFor(bed.ws);

    const clone = join(bed.root, 'clone');
    run(['git', 'clone', '-q', bed.ws.paths.configRepo, clone], bed.root);
    const path = 'apps/checkout/overlays/dev/kustomization.yaml';
    const overlay = run(['cat', path], clone);
    writeFileSync(join(clone, path), overlay.replace(/newTag: .*/, 'newTag: v11'));
    const sign = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${join(keys, 'dave')}`];
    run(
      [
        'git',
        '-c',
        'user.name=dave',
        '-c',
        'user.email=dave@x',
        ...sign,
        'commit',
        '-q',
        '-S',
        '-am',
        'bump',
      ],
      clone,
    );
    run(['git', 'push', '-q', 'origin', 'HEAD:refs/heads/human'], clone);

    const proposal = await cm.service.openProposal(bed.as('dave'), {
      title: 'human',
      description: '',
      branch: 'human',
    });
    const merged = await cm.service.merge(bed.as('alice'), proposal.id);
    expect(merged.state).toBe('merged');
    const [entry] = await bed.ws.ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${proposal.id}`,
    });
    expect(evidenceOf(entry!, 'proposal.merged')?.commitSignedBy).toBe('dave');
  });

  it('records the desired-state digest of each application the merge changes', async () => {
    await bed.bump('digest-a', 'dev', 'v40');
    const first = await propose(bed, 'digest-a');
    await bed.cm.service.merge(bed.as('alice'), first.id);
    await bed.bump('digest-b', 'dev', 'v41');
    const second = await propose(bed, 'digest-b');
    await bed.cm.service.merge(bed.as('alice'), second.id);

    const mergedOf = async (id: string) => {
      const [entry] = await bed.ws.ledger.list({
        kind: 'proposal.merged',
        subject: `proposal:${id}`,
      });
      return evidenceOf(entry!, 'proposal.merged')!;
    };
    const a = await mergedOf(first.id);
    const b = await mergedOf(second.id);
    expect(a.desiredDigests).toEqual([
      { app: 'dev/checkout', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    ]);
    expect(a.desiredDigest).toBe(a.desiredDigests![0]!.digest);
    // Another image tag is another desired state.
    expect(b.desiredDigest).not.toBe(a.desiredDigest);
  });

  it('digests every overlay of a service whose base a proposal edits, and skips what does not render', async () => {
    const gitDir = bed.ws.paths.configRepo;
    const base = 'apps/checkout/base/deployment.yaml';
    const edited = await bed.edit('base-edit', {
      [base]: (await bed.readMain(base)).replace(/replicas: \d+/, 'replicas: 7'),
    });
    const digests = await approvedDesiredDigests(gitDir, {
      headCommit: edited,
      changedPaths: [base],
    });
    expect(digests.map((d) => d.app)).toEqual([
      'dev/checkout',
      'prod/checkout',
      'staging/checkout',
    ]);
    const before = await approvedDesiredDigests(gitDir, {
      headCommit: await bed.mainHead(),
      changedPaths: [base],
    });
    for (const [i, digest] of digests.entries()) expect(digest.digest).not.toBe(before[i]!.digest);

    const broken = await bed.edit('broken-overlay', {
      'apps/checkout/overlays/dev/kustomization.yaml': 'resources:\n  - ../../missing\n',
    });
    const skipped = await approvedDesiredDigests(gitDir, {
      headCommit: broken,
      changedPaths: ['apps/checkout/overlays/dev/kustomization.yaml', 'environments/dev.yaml'],
    });
    expect(skipped).toEqual([]);
  });

  it('refuses a branch that is behind main: only fast-forwards land', async () => {
    const main = await bed.mainHead();
    const stale = await bed.bump('behind', 'dev', 'v12', `${main}~1`);
    const proposal = await propose(bed, 'behind');
    await expect(bed.cm.service.merge(bed.as('alice'), proposal.id)).rejects.toMatchObject({
      code: 'NOT_FAST_FORWARD',
    });
    expect(await bed.mainHead()).toBe(main);
    expect(stale).not.toBe(main);
  });

  it('keeps a consistent state when approval and merge race', async () => {
    for (let round = 0; round < 4; round += 1) {
      await bed.bump(`race-${round}`, 'prod', `v20.${round}`);
      const proposal = await propose(bed, `race-${round}`);
      const before = await bed.mainHead();
      const [approval, merge] = await Promise.allSettled([
        bed.cm.service.approve(bed.as('carol'), proposal.id),
        bed.cm.service.merge(bed.as('alice'), proposal.id),
      ]);
      expect(approval.status).toBe('fulfilled');
      const current = await bed.cm.forge.getProposal(proposal.id);
      if (merge.status === 'fulfilled') {
        expect(current.state).toBe('merged');
        expect(await bed.mainHead()).toBe(proposal.headCommit);
      } else {
        expect(current.state).toBe('open');
        expect(await bed.mainHead()).toBe(before);
        expect((await bed.cm.service.merge(bed.as('alice'), proposal.id)).state).toBe('merged');
      }
      const [entry] = await bed.ws.ledger.list({
        kind: 'proposal.merged',
        subject: `proposal:${proposal.id}`,
      });
      expect(evidenceOf(entry!, 'proposal.merged')?.approvals.map((a) => a.reviewer)).toEqual([
        'carol',
      ]);
    }
  });

  it('lets exactly one of two racing merges land', async () => {
    await bed.bump('twice', 'dev', 'v30');
    const proposal = await propose(bed, 'twice');
    const results = await Promise.allSettled([
      bed.cm.service.merge(bed.as('alice'), proposal.id),
      bed.cm.service.merge(bed.as('bob'), proposal.id),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(['PROPOSAL_NOT_OPEN', 'MAIN_MOVED']).toContain(refused.reason.code);
    expect(
      await bed.ws.ledger.list({ kind: 'proposal.merged', subject: `proposal:${proposal.id}` }),
    ).toHaveLength(1);
    expect(await bed.mainHead()).toBe(proposal.headCommit);
  });

  it('finishes a merge interrupted after main moved but before it was recorded', async () => {
    await bed.bump('crash', 'dev', 'v31');
    const proposal = await propose(bed, 'crash');
    // What a crash between the ref update and the database commit leaves behind.
    await git(['update-ref', 'refs/heads/main', proposal.headCommit], {
      cwd: bed.ws.paths.configRepo,
    });
    expect((await bed.cm.forge.getProposal(proposal.id)).state).toBe('open');
    const merged = await bed.cm.service.merge(bed.as('alice'), proposal.id);
    expect(merged).toMatchObject({ state: 'merged', mergeCommit: proposal.headCommit });
  });

  it('refuses with the file named, and writes nothing, when an environment file is malformed', async () => {
    const gitDir = bed.ws.paths.configRepo;
    const good = await bed.mainHead();
    const bad = await bed.edit('broken-env', { 'environments/prod.yaml': 'approvals: many\n' });
    await git(['update-ref', 'refs/heads/main', bad], { cwd: gitDir });
    try {
      await bed.bump('after-broken', 'prod', 'v40');
      const before = await bed.cm.forge.listProposals();
      await expect(propose(bed, 'after-broken')).rejects.toMatchObject({
        code: 'ENVIRONMENT_FILE_INVALID',
        message: expect.stringMatching(/^environments\/prod\.yaml in the config repo: approvals: /),
      });
      expect(await bed.cm.forge.listProposals()).toEqual(before);
      const refusals = await bed.ws.ledger.list({
        kind: 'proposal.refused',
        subject: 'proposal:branch:after-broken',
      });
      expect(evidenceOf(refusals[0]!, 'proposal.refused')?.code).toBe('ENVIRONMENT_FILE_INVALID');
    } finally {
      await git(['update-ref', 'refs/heads/main', good], { cwd: gitDir });
    }
  });

  it('lets the config repo tighten an environment but never loosen it', async () => {
    const gitDir = bed.ws.paths.configRepo;
    const good = await bed.mainHead();
    const file =
      'approvals: 0\ncabRequired: false\nnonRoutineApprovals: 3\nstandardChanges: [routine-image-bump]\n';
    const refined = await bed.edit('refine', { 'environments/prod.yaml': file });
    await git(['update-ref', 'refs/heads/main', refined], { cwd: gitDir });
    try {
      await bed.bump('refined', 'prod', 'v41');
      const proposal = await propose(bed, 'refined');
      const protection = await bed.cm.service.protectionFor({ ...proposal, routine: false }, {});
      expect(protection.requiredApprovals).toBe(3);
      const change = await bed.cm.context.changeSystem.findByProposal(proposal.id);
      expect(change?.type).toBe('standard');
      const byApprover = await bed.cm.service.approve(bed.as('bob'), proposal.id);
      expect(byApprover.gate).toMatchObject({ state: 'success', rule: 'standard-preapproved' });
    } finally {
      await git(['update-ref', 'refs/heads/main', good], { cwd: gitDir });
    }
  });
});
