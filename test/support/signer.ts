import { generateKeyPairSync, sign } from 'node:crypto';
import { keyIdOf } from '../../src/embedded/secret-broker/keys.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';

/** A real ECDSA P-256 signer over a fresh in-memory key, for tests. */
export function testSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: keyIdOf(publicKeyPem),
    publicKeyPem,
    sign: async (data) => sign('sha256', data, privateKey),
  };
}
