import { writeFileSync } from 'node:fs';
import { openSshPublicKey } from './ssh-signature.ts';

/** One trusted signer: a principal name and its public key (PEM or an SSH public key line). */
export interface AllowedSigner {
  principal: string;
  publicKey: string;
}

/**
 * Writes an allowed-signers file (ssh-keygen's ALLOWED SIGNERS format) restricted to the `git`
 * namespace, for `git verify-commit` with `gpg.ssh.allowedSignersFile`.
 */
export function writeAllowedSigners(file: string, signers: AllowedSigner[]): void {
  const lines = signers.map(({ principal, publicKey }) => {
    const key = publicKey.includes('BEGIN PUBLIC KEY')
      ? openSshPublicKey(publicKey)
      : publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
    return `${principal} namespaces="git" ${key}`;
  });
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o644 });
}
