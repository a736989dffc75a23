import { createHash, createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { git } from '../../gitops/git.ts';
import type { Signer } from '../../supply-chain/signer.ts';

/**
 * SSH signatures for config commits, so that a changeproof {@link Signer} (ECDSA P-256, key held
 * by the secret broker) signs commits that plain `git verify-commit` accepts with
 * `gpg.ssh.allowedSignersFile`. The format is OpenSSH's SSHSIG (PROTOCOL.sshsig): the signer signs
 * `"SSHSIG" ‖ string(namespace) ‖ string("") ‖ string("sha512") ‖ string(sha512(message))`.
 */
const MAGIC = Buffer.from('SSHSIG');
const HASH_ALGORITHM = 'sha512';

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The SSH wire form of a P-256 or Ed25519 public key given as PEM (SPKI). */
export function sshPublicKeyBlob(publicKeyPem: string): { type: string; blob: Buffer } {
  const key = createPublicKey(publicKeyPem);
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    const type = 'ecdsa-sha2-nistp256';
    return {
      type,
      blob: Buffer.concat([sshString(type), sshString('nistp256'), sshString(point)]),
    };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    const type = 'ssh-ed25519';
    return {
      type,
      blob: Buffer.concat([sshString(type), sshString(Buffer.from(jwk.x!, 'base64url'))]),
    };
  }
  throw new Error('only ECDSA P-256 and Ed25519 keys can sign config commits');
}

/** `ecdsa-sha2-nistp256 AAAA…`: the line an allowed-signers file or authorized_keys holds. */
export function sshPublicKeyLine(publicKeyPem: string): string {
  const { type, blob } = sshPublicKeyBlob(publicKeyPem);
  return `${type} ${blob.toString('base64')}`;
}

/** Splits an ASN.1 DER ECDSA signature into its two integers. */
function derToIntegers(der: Uint8Array): [Buffer, Buffer] {
  const bytes = Buffer.from(der);
  let offset = 2; // SEQUENCE tag and its (short-form) length
  if (bytes[1]! & 0x80) offset += bytes[1]! & 0x7f;
  const read = (): Buffer => {
    const length = bytes[offset + 1]!;
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  return [read(), read()];
}

/** An SSH mpint: big-endian, minimal, with a zero byte in front when the top bit is set. */
function mpint(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  return sshString(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** Signs `message` as OpenSSH's `ssh-keygen -Y sign -n <namespace>` would, armored. */
export async function sshSign(signer: Signer, message: Buffer, namespace = 'git'): Promise<string> {
  const { type, blob } = sshPublicKeyBlob(signer.publicKeyPem);
  if (type !== 'ecdsa-sha2-nistp256') throw new Error('changeproof signers are ECDSA P-256');
  const digest = createHash(HASH_ALGORITHM).update(message).digest();
  const toSign = Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(''),
    sshString(HASH_ALGORITHM),
    sshString(digest),
  ]);
  const [r, s] = derToIntegers(await signer.sign(toSign));
  const signature = Buffer.concat([
    sshString(type),
    sshString(Buffer.concat([mpint(r), mpint(s)])),
  ]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const sshsig = Buffer.concat([
    MAGIC,
    version,
    sshString(blob),
    sshString(namespace),
    sshString(''),
    sshString(HASH_ALGORITHM),
    sshString(signature),
  ]);
  const lines = sshsig.toString('base64').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----'].join('\n');
}

export interface SignedCommitRequest {
  /** A git directory (bare or `.git`) or a work tree. */
  cwd: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string };
  signer: Signer;
  /** Seconds since the epoch; now by default. */
  time?: number;
}

/**
 * Writes a commit object signed with `signer` and returns its id. The signature covers the commit
 * exactly as git hashes it without the `gpgsig` header, which is what `git verify-commit` checks.
 */
export async function writeSignedCommit(request: SignedCommitRequest): Promise<string> {
  const time = request.time ?? Math.floor(Date.now() / 1000);
  const person = `${request.author.name} <${request.author.email}> ${time} +0000`;
  const headers = [
    `tree ${request.tree}`,
    ...request.parents.map((parent) => `parent ${parent}`),
    `author ${person}`,
    `committer ${person}`,
  ];
  const body = `\n${request.message.endsWith('\n') ? request.message : `${request.message}\n`}`;
  const unsigned = `${headers.join('\n')}\n${body}`;
  const armored = await sshSign(request.signer, Buffer.from(unsigned));
  const gpgsig = `gpgsig ${armored.split('\n').join('\n ')}`;
  const signed = `${headers.join('\n')}\n${gpgsig}\n${body}`;
  const id = await git(['hash-object', '-t', 'commit', '-w', '--stdin'], {
    cwd: request.cwd,
    input: signed,
  });
  return id.trim();
}

/** One trusted signer: a principal name and its public key (PEM or an SSH public key line). */
export interface AllowedSigner {
  principal: string;
  publicKey: string;
}

/** Writes an allowed-signers file (ssh-keygen ALLOWED SIGNERS format) restricted to git. */
export function writeAllowedSigners(file: string, signers: AllowedSigner[]): void {
  const lines = signers.map(({ principal, publicKey }) => {
    const key = publicKey.includes('BEGIN PUBLIC KEY')
      ? sshPublicKeyLine(publicKey)
      : publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
    return `${principal} namespaces="git" ${key}`;
  });
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o644 });
}
