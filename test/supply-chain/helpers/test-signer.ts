import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import type { Signer } from '../../../src/supply-chain/signer.ts';

/** A Signer over a fresh in-memory ECDSA P-256 key, standing in for the secret broker. */
export function createTestSigner(): Signer & { privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    keyId: createHash('sha256').update(spki).digest('base64'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem,
    async sign(data: Uint8Array): Promise<Uint8Array> {
      return sign('sha256', data, createPrivateKey(privateKeyPem));
    },
  };
}
