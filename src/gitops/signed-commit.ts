import type { Signer } from '../supply-chain/signer.ts';
import { git } from './git.ts';
import { signSshsig } from './ssh-signature.ts';

/** Who wrote or committed a commit, and when. */
export interface GitIdentity {
  name: string;
  email: string;
  date: Date;
}

export interface SignedCommitRequest {
  /** A work tree whose index holds the tree to commit. */
  cwd: string;
  message: string;
  author: GitIdentity;
  committer?: GitIdentity;
  signer: Signer;
  /** Parent commits; the current HEAD when omitted. */
  parents?: string[];
  /** The ref moved to the new commit (created if new); HEAD's branch when omitted. */
  ref?: string;
}

/**
 * Commits the index as a commit signed with an SSH signature (SSHSIG, namespace `git`), the way
 * `git commit -S` with `gpg.format=ssh` would, but signing through a broker {@link Signer}: the
 * commit object is built here, signed, and written with `git hash-object`. `ref` (HEAD's
 * branch by default) is moved to it. Returns the commit id.
 */
export async function commitSigned(request: SignedCommitRequest): Promise<string> {
  const tree = (await git(['write-tree'], { cwd: request.cwd })).trim();
  const parents = request.parents ?? [
    (await git(['rev-parse', 'HEAD'], { cwd: request.cwd })).trim(),
  ];
  const commit = await writeSignedCommitObject({ ...request, tree, parents });
  await git(['update-ref', '-m', 'changeproof: signed commit', request.ref ?? 'HEAD', commit], {
    cwd: request.cwd,
  });
  return commit;
}

/**
 * Writes a signed commit object for `tree` with `parents` into the repository at `cwd` (bare or
 * not) and returns its id; no ref moves. The signature covers the commit exactly as git hashes it
 * without the `gpgsig` header, which is what `git verify-commit` checks.
 */
export async function writeSignedCommitObject(request: {
  cwd: string;
  tree: string;
  parents: string[];
  message: string;
  author: GitIdentity;
  committer?: GitIdentity;
  signer: Signer;
}): Promise<string> {
  const unsigned = commitText(request);
  const signature = await signSshsig(Buffer.from(unsigned), 'git', request.signer);
  const signed = withSignatureHeader(unsigned, signature);
  const id = await git(['hash-object', '-t', 'commit', '-w', '--stdin'], {
    cwd: request.cwd,
    input: signed,
  });
  return id.trim();
}

/** The raw commit object text without a signature: what the signature covers. */
export function commitText(options: {
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer?: GitIdentity;
  message: string;
}): string {
  const lines = [
    `tree ${options.tree}`,
    ...options.parents.map((parent) => `parent ${parent}`),
    `author ${identityLine(options.author)}`,
    `committer ${identityLine(options.committer ?? options.author)}`,
  ];
  const message = options.message.endsWith('\n') ? options.message : `${options.message}\n`;
  return `${lines.join('\n')}\n\n${message}`;
}

/**
 * Inserts the `gpgsig` header after the committer line; continuation lines of a multi-line
 * header start with one space, as git writes them.
 */
export function withSignatureHeader(commit: string, armoredSignature: string): string {
  const headerEnd = commit.indexOf('\n\n');
  const header = `gpgsig ${armoredSignature.split('\n').join('\n ')}`;
  return `${commit.slice(0, headerEnd)}\n${header}${commit.slice(headerEnd)}`;
}

function identityLine(identity: GitIdentity): string {
  const seconds = Math.floor(identity.date.getTime() / 1000);
  return `${identity.name} <${identity.email}> ${seconds} +0000`;
}
