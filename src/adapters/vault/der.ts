/**
 * Vault transit returns ECDSA signatures as `vault:v<n>:<base64>`: ASN.1 DER with
 * `marshaling_algorithm=asn1` (the default), or the raw 64-byte r‖s with `jws` (base64url).
 * changeproof's Signer hands out DER, so a raw signature is re-encoded.
 */
export function vaultSignatureToDer(signature: string): Uint8Array {
  const encoded = signature.replace(/^vault:v\d+:/, '');
  const bytes = Buffer.from(
    encoded,
    encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64',
  );
  if (bytes[0] === 0x30 && bytes.length !== 64) return bytes;
  if (bytes.length !== 64)
    throw new Error(`unexpected ECDSA P-256 signature of ${bytes.length} bytes`);
  return rawToDer(bytes);
}

/** r‖s (32 bytes each) to DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const integer = (part: Uint8Array) => {
    let start = 0;
    while (start < part.length - 1 && part[start] === 0) start++;
    const trimmed = part.subarray(start);
    // A leading 1 bit would read as negative: prefix a zero byte.
    const body =
      trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const r = integer(raw.subarray(0, 32));
  const s = integer(raw.subarray(32, 64));
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}
