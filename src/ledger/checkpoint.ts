import { canonicalize } from './canonical.ts';
import {
  envelopePayload,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
} from '../supply-chain/dsse.ts';
import type { Signer } from '../supply-chain/signer.ts';

export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.changeproof.checkpoint.v1+json';

/** What a checkpoint seals: the first `treeSize` entries, by Merkle root and by chain head. */
export interface CheckpointBody {
  treeSize: number;
  /** Hex RFC 9162 root over the entries' hashes. */
  rootHash: string;
  /** Hex hash of entry `treeSize`, the chain head at sealing time. */
  headHash: string;
  time: string;
}

/** A checkpoint as stored and exported: the body and its DSSE envelope. */
export interface Checkpoint extends CheckpointBody {
  keyId: string;
  envelope: DsseEnvelope;
}

export async function sealCheckpoint(body: CheckpointBody, signer: Signer): Promise<Checkpoint> {
  const payload = Buffer.from(canonicalize({ ...body }), 'utf8');
  const envelope = await signEnvelope(CHECKPOINT_PAYLOAD_TYPE, payload, signer);
  return { ...body, keyId: signer.keyId, envelope };
}

/**
 * Checks the envelope's signature with the control-plane public key and that the signed payload
 * is exactly the body stored beside it. Returns a reason when it fails.
 */
export function checkCheckpoint(checkpoint: Checkpoint, publicKeyPem: string): string | undefined {
  if (checkpoint.envelope.payloadType !== CHECKPOINT_PAYLOAD_TYPE) return 'wrong payload type';
  if (!verifyEnvelope(checkpoint.envelope, publicKeyPem)) return 'signature does not verify';
  const { treeSize, rootHash, headHash, time } = checkpoint;
  const expected = canonicalize({ treeSize, rootHash, headHash, time });
  if (envelopePayload(checkpoint.envelope).toString('utf8') !== expected) {
    return 'signed payload differs from the stored checkpoint';
  }
  return undefined;
}
