/**
 * A signing capability handed out by the secret broker. The private key stays with the broker
 * (the embedded broker in local mode, Vault transit in connected mode); callers only see the
 * public key and a function that signs.
 */
export interface Signer {
  /** Stable key identifier: base64 (standard) of sha256 over the SPKI DER, as cosign hints it. */
  readonly keyId: string;
  /** PEM `PUBLIC KEY` (SPKI DER) of the ECDSA P-256 key. */
  readonly publicKeyPem: string;
  /** ASN.1 DER ECDSA P-256 signature over SHA-256 of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}
