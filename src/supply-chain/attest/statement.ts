import { SupplyChainError } from '../supply-chain-error.ts';

/** in-toto Statement types: v1 is what changeproof writes; cosign's classic `.att` writes v0.1. */
export const StatementTypeV1 = 'https://in-toto.io/Statement/v1';
export const StatementTypeV01 = 'https://in-toto.io/Statement/v0.1';
export const InTotoPayloadType = 'application/vnd.in-toto+json';

/** An image named by repository (`registry/repo`) and pinned by manifest digest. */
export interface ImageRef {
  repository: string;
  digest: string;
}

export interface InTotoStatement<Predicate = unknown> {
  _type: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: Predicate;
}

/** A v1 statement about one image: subject name is the repository, digest its sha256. */
export function imageStatement<Predicate>(
  image: ImageRef,
  predicateType: string,
  predicate: Predicate,
): InTotoStatement<Predicate> {
  return {
    _type: StatementTypeV1,
    subject: [{ name: image.repository, digest: { sha256: digestHex(image.digest) } }],
    predicateType,
    predicate,
  };
}

/** The hex of a `sha256:<hex>` digest; anything else is refused. */
export function digestHex(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new SupplyChainError(
      'DIGEST_INVALID',
      `${digest} is not a sha256 digest (sha256:<64 hex>)`,
    );
  }
  return digest.slice('sha256:'.length);
}

/**
 * Reads a statement from DSSE payload bytes and says why it does not speak about the image:
 * unknown `_type`, or no subject whose sha256 is the image digest. Undefined reason means fine.
 */
export function statementAbout(
  payload: Uint8Array,
  imageDigest: string,
): { statement?: InTotoStatement; reason?: string } {
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(Buffer.from(payload).toString('utf8')) as InTotoStatement;
  } catch {
    return { reason: 'payload is not JSON' };
  }
  if (statement._type !== StatementTypeV1 && statement._type !== StatementTypeV01) {
    return { reason: `statement type ${String(statement._type)} is not in-toto v1 or v0.1` };
  }
  const hex = digestHex(imageDigest);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  if (!subjects.some((subject) => subject?.digest?.sha256 === hex)) {
    return { statement, reason: `no subject of the statement has digest ${imageDigest}` };
  }
  return { statement };
}
