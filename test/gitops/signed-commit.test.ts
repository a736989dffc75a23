import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, identityArgs } from '../../src/gitops/git.ts';
import { commitSigned } from '../../src/gitops/signed-commit.ts';
import { derSignatureToRs, openSshPublicKey, signSshsig } from '../../src/gitops/ssh-signature.ts';
import { testSigner } from '../support/signer.ts';

describe('commitSigned', () => {
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'changeproof-signed-commit-'));
    await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: dir });
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    await git(['add', 'a.txt'], { cwd: dir });
    await git([...identityArgs('seed', 'seed@example.test'), 'commit', '-q', '-m', 'seed'], {
      cwd: dir,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function verify(publicKeyPem: string): Promise<string> {
    const allowed = join(dir, '.allowed_signers');
    writeFileSync(allowed, `pipeline@changeproof.local ${openSshPublicKey(publicKeyPem)}\n`);
    return git(
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        `gpg.ssh.allowedSignersFile=${allowed}`,
        'verify-commit',
        '--raw',
        'HEAD',
      ],
      { cwd: dir },
    );
  }

  async function commitChange(signer = testSigner()) {
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    await git(['add', 'a.txt'], { cwd: dir });
    const identity = {
      name: 'changeproof pipeline',
      email: 'pipeline@changeproof.local',
      date: new Date('2025-03-01T10:00:00Z'),
    };
    const commit = await commitSigned({ cwd: dir, message: 'Bump', author: identity, signer });
    return { commit, signer };
  }

  it('writes a commit that git verify-commit accepts with the signer as an allowed signer', async () => {
    const { commit, signer } = await commitChange();

    expect((await git(['rev-parse', 'HEAD'], { cwd: dir })).trim()).toBe(commit);
    expect(await git(['show', '--format=%s', '--name-only', 'HEAD'], { cwd: dir })).toContain(
      'a.txt',
    );
    await expect(verify(signer.publicKeyPem)).resolves.toBeDefined();
  });

  it('is refused by git verify-commit for any other key', async () => {
    await commitChange();

    await expect(verify(testSigner().publicKeyPem)).rejects.toThrow(/failed/);
  });

  it('is refused once the commit content changes after signing', async () => {
    const { signer } = await commitChange();
    const raw = await git(['cat-file', 'commit', 'HEAD'], { cwd: dir });
    const forged = raw.replace('Bump', 'Bumq');
    const id = (
      await git(['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: dir, input: forged })
    ).trim();
    await git(['update-ref', 'HEAD', id], { cwd: dir });

    await expect(verify(signer.publicKeyPem)).rejects.toThrow(/failed/);
  });
});

describe('SSHSIG', () => {
  it('verifies with ssh-keygen -Y verify for namespace git', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'changeproof-sshsig-'));
    try {
      const signer = testSigner();
      const message = Buffer.from('hello\n');
      writeFileSync(join(dir, 'message'), message);
      writeFileSync(join(dir, 'message.sig'), `${await signSshsig(message, 'git', signer)}\n`);
      writeFileSync(join(dir, 'allowed'), `me@test ${openSshPublicKey(signer.publicKeyPem)}\n`);
      const { spawnSync } = await import('node:child_process');
      const result = spawnSync(
        'ssh-keygen',
        ['-Y', 'verify', '-f', 'allowed', '-I', 'me@test', '-n', 'git', '-s', 'message.sig'],
        { cwd: dir, input: message, encoding: 'utf8' },
      );
      expect(result.stdout + result.stderr).toContain('Good "git" signature');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads r and s from DER, including long-form lengths', () => {
    const r = Buffer.alloc(33, 0x81);
    r[0] = 0;
    const s = Buffer.from([0x01, 0x02]);
    const body = Buffer.concat([Buffer.from([2, 33]), r, Buffer.from([2, 2]), s]);
    const der = Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);

    expect(derSignatureToRs(der)).toEqual({ r, s });
    expect(() => derSignatureToRs(Buffer.from([0x31, 0]))).toThrow(/not DER ECDSA/);
  });
});
