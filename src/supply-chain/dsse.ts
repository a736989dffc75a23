import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import type { Signer } from './signer.ts';

/** A DSSE envelope as the spec and cosign write it. */
export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

/**
 * Pre-authentication encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths as
 * ASCII decimal byte counts. The signature covers these bytes, never the bare payload.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([header, payload]);
}

export async function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signer: Signer,
): Promise<DsseEnvelope> {
  const signature = await signer.sign(preAuthEncoding(payloadType, payload));
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: [{ keyid: signer.keyId, sig: Buffer.from(signature).toString('base64') }],
  };
}

/**
 * True when at least one signature in the envelope verifies with `publicKey` (PEM, or a key
 * object parsed once by a caller that verifies many envelopes).
 * The caller still checks the payload type and what the payload says.
 */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: string | KeyObject): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  return envelope.signatures.some((signature) => {
    const verifier = createVerify('sha256');
    verifier.update(pae);
    return verifier.verify(key, Buffer.from(signature.sig, 'base64'));
  });
}

export function envelopePayload(envelope: DsseEnvelope): Buffer {
  return Buffer.from(envelope.payload, 'base64');
}
