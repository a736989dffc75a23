import { createHash, createPublicKey } from 'node:crypto';
import type { Signer } from '../supply-chain/signer.ts';
import { ChangeproofError } from '../errors.ts';

export class SshSignatureError extends ChangeproofError<'SIGNATURE_FORMAT'> {}

/**
 * SSH signatures in OpenSSH's SSHSIG format (PROTOCOL.sshsig), made with a broker {@link Signer}
 * so the private key never leaves the broker. Git verifies them with `ssh-keygen -Y verify`
 * when `gpg.format=ssh`. Only ECDSA P-256 keys (`ecdsa-sha2-nistp256`), which is what the
 * broker holds.
 */
const KeyType = 'ecdsa-sha2-nistp256';
const CurveName = 'nistp256';
const Preamble = Buffer.from('SSHSIG');
const HashAlgorithm = 'sha512';
/** ssh-keygen wraps the armored base64 at 70 columns. */
const ArmorWidth = 70;

/** The SSH wire encoding of a string: uint32 length then the bytes. */
function sshString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An mpint (RFC 4251): big-endian, minimal, with a 0x00 in front when the top bit is set. */
function sshMpint(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = Buffer.from(magnitude.subarray(start));
  const padded = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return sshString(padded);
}

/** The SSH public key blob of a PEM SPKI ECDSA P-256 key: type, curve, uncompressed point. */
export function sshPublicKeyBlob(publicKeyPem: string): Buffer {
  const jwk = createPublicKey(publicKeyPem).export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new SshSignatureError('SIGNATURE_FORMAT', 'only ECDSA P-256 keys can sign commits');
  }
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  return Buffer.concat([sshString(KeyType), sshString(CurveName), sshString(point)]);
}

/** The public key as one OpenSSH line (`ecdsa-sha2-nistp256 AAAA…`), e.g. for allowed_signers. */
export function openSshPublicKey(publicKeyPem: string): string {
  return `${KeyType} ${sshPublicKeyBlob(publicKeyPem).toString('base64')}`;
}

/** Splits an ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` into r and s. */
export function derSignatureToRs(der: Uint8Array): { r: Buffer; s: Buffer } {
  const bytes = Buffer.from(der);
  let offset = 0;
  const readLength = (): number => {
    const first = bytes[offset++] ?? 0;
    if (first < 0x80) return first;
    let length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = (length << 8) | (bytes[offset++] ?? 0);
    return length;
  };
  const readInteger = (): Buffer => {
    if (bytes[offset++] !== 0x02) throw malformed();
    const length = readLength();
    const value = bytes.subarray(offset, offset + length);
    offset += length;
    if (value.length !== length) throw malformed();
    return value;
  };
  if (bytes[offset++] !== 0x30) throw malformed();
  const sequenceLength = readLength();
  if (offset + sequenceLength !== bytes.length) throw malformed();
  return { r: readInteger(), s: readInteger() };
}

function malformed(): SshSignatureError {
  return new SshSignatureError(
    'SIGNATURE_FORMAT',
    'the signer returned a signature that is not DER ECDSA',
  );
}

/** The bytes SSHSIG signs: preamble, namespace, reserved, hash algorithm and H(message). */
function signedData(message: Uint8Array, namespace: string): Buffer {
  const digest = createHash(HashAlgorithm).update(message).digest();
  return Buffer.concat([
    Preamble,
    sshString(namespace),
    sshString(''),
    sshString(HashAlgorithm),
    sshString(digest),
  ]);
}

/**
 * Signs `message` for `namespace` (git uses `git`) and returns the armored SSHSIG text.
 * ECDSA nistp256 signs the signed-data blob with SHA-256, which is exactly what the Signer does;
 * its DER (r, s) become SSH mpints.
 */
export async function signSshsig(
  message: Uint8Array,
  namespace: string,
  signer: Signer,
): Promise<string> {
  const der = await signer.sign(signedData(message, namespace));
  const { r, s } = derSignatureToRs(der);
  const signature = Buffer.concat([
    sshString(KeyType),
    sshString(Buffer.concat([sshMpint(r), sshMpint(s)])),
  ]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    Preamble,
    version,
    sshString(sshPublicKeyBlob(signer.publicKeyPem)),
    sshString(namespace),
    sshString(''),
    sshString(HashAlgorithm),
    sshString(signature),
  ]);
  return armor(blob);
}

function armor(blob: Buffer): string {
  const base64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += ArmorWidth) lines.push(base64.slice(i, i + ArmorWidth));
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----'].join('\n');
}
