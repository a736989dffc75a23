import { execFile } from 'node:child_process';
import { ChangeError } from '../../change/errors.ts';
import { git } from '../../gitops/git.ts';
import { short } from './protection.ts';

/** Who signed a commit, as `git verify-commit` reported it. */
export interface VerifiedCommit {
  commit: string;
  principal: string;
}

/**
 * Verifies every commit in `from..to` with real `git verify-commit` against an allowed-signers
 * file, and refuses the first one without a good signature from an allowed signer.
 */
export async function verifyCommitRange(
  gitDir: string,
  from: string,
  to: string,
  allowedSignersFile: string,
): Promise<VerifiedCommit[]> {
  const list = await git(['rev-list', '--reverse', `${from}..${to}`], { cwd: gitDir });
  const verified: VerifiedCommit[] = [];
  for (const commit of list.split('\n').filter(Boolean)) {
    verified.push(await verifyCommit(gitDir, commit, allowedSignersFile));
  }
  return verified;
}

function verifyCommit(
  gitDir: string,
  commit: string,
  allowedSignersFile: string,
): Promise<VerifiedCommit> {
  const args = ['-c', `gpg.ssh.allowedSignersFile=${allowedSignersFile}`, 'verify-commit', commit];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: gitDir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    LC_ALL: 'C',
  };
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: gitDir, env }, (error, _stdout, stderr) => {
      const principal = /Good "git" signature for (\S+) with/.exec(stderr)?.[1];
      if (!error && principal) return resolve({ commit, principal });
      const detail = stderr.includes('No principal matched')
        ? 'signed by a key that is not an allowed signer'
        : /no signature found/i.test(stderr) || stderr.trim() === ''
          ? 'not signed'
          : (stderr.trim().split('\n').pop() ?? 'signature does not verify');
      reject(
        new ChangeError(
          'UNSIGNED_COMMIT',
          `commit ${short(commit)} is ${detail}; sign it with the pipeline key or a listed key and push again`,
          { details: { commit } },
        ),
      );
    });
  });
}
