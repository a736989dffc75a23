import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as signWithKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyName } from '../../domain/secret-broker.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { SecretBrokerError } from './errors.ts';

/** Where the embedded broker keeps a key pair inside the workspace's keys folder. */
export function keyPaths(
  keysDir: string,
  name: KeyName,
): { privatePath: string; publicPath: string } {
  return { privatePath: join(keysDir, `${name}.key`), publicPath: join(keysDir, `${name}.pub`) };
}

/** Creates an ECDSA P-256 key pair; the private key is written 0600 and never printed. */
export function generateKeyPair(keysDir: string, name: KeyName): void {
  const { privatePath, publicPath } = keyPaths(keysDir, name);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  });
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), {
    mode: 0o644,
    flag: 'wx',
  });
}

/**
 * Refuses a private key that is missing or that anyone but its owner can read: a key readable by
 * others is treated as exposed. Workspaces run this when they are opened, and the broker again
 * before it signs, so a key loosened while a process runs is still refused.
 */
export function assertPrivateKeyProtected(keysDir: string, name: KeyName): void {
  const { privatePath } = keyPaths(keysDir, name);
  if (!existsSync(privatePath)) {
    throw new SecretBrokerError(
      'KEY_MISSING',
      `${privatePath}: ${name} key is missing; restore it from backup`,
      { category: 'internal' },
    );
  }
  const mode = statSync(privatePath).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new SecretBrokerError(
      'KEY_PERMISSIONS',
      `${privatePath}: key is readable by others (mode ${mode.toString(8)}); run chmod 600 ${privatePath} and rotate it`,
      { category: 'internal' },
    );
  }
}

/** Loads a private key after {@link assertPrivateKeyProtected} has accepted it. */
export function loadPrivateKey(keysDir: string, name: KeyName): KeyObject {
  assertPrivateKeyProtected(keysDir, name);
  const { privatePath } = keyPaths(keysDir, name);
  try {
    return createPrivateKey(readFileSync(privatePath));
  } catch (cause) {
    throw new SecretBrokerError(
      'KEY_INVALID',
      `${privatePath}: not a PEM private key; restore it from backup`,
      { category: 'internal', cause },
    );
  }
}

export function loadPublicKeyPem(keysDir: string, name: KeyName): string {
  const { publicPath } = keyPaths(keysDir, name);
  if (!existsSync(publicPath)) {
    throw new SecretBrokerError('KEY_MISSING', `${publicPath}: ${name} public key is missing`, {
      category: 'internal',
    });
  }
  return readFileSync(publicPath, 'utf8');
}

/** cosign's key hint: base64 (standard) of sha256 over the SPKI DER. */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** A signer over an in-process key object; `assertUsable` runs before every signature. */
export function signerFromKey(privateKey: KeyObject, assertUsable: () => Promise<void>): Signer {
  const publicKeyPem = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    keyId: keyIdOf(publicKeyPem),
    publicKeyPem,
    async sign(data) {
      await assertUsable();
      return signWithKey('sha256', data, privateKey);
    },
  };
}
