import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../../embedded/secret-broker/keys.ts';
import { canonicalize } from '../../ledger/canonical.ts';
import { checkCheckpoint, type Checkpoint } from '../../ledger/checkpoint.ts';
import { hashEntry } from '../../ledger/entry.ts';
import { leafHash } from '../../ledger/merkle.ts';
import { envelopePayload, verifyEnvelope, type DsseEnvelope } from '../../supply-chain/dsse.ts';
import { messageOf } from '../../errors.ts';
import {
  MANIFEST_PAYLOAD_TYPE,
  PACK_FILES,
  PACK_FORMAT,
  type PackManifest,
  type PackedEntry,
} from './layout.ts';
import { InclusionChecker } from './inclusion.ts';
import { readZip, writeZip, type PackFile } from './zip.ts';

export type PackProblemCode =
  | 'PACK_UNREADABLE'
  | 'ARCHIVE_ALTERED'
  | 'MANIFEST_MISSING'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_SIGNATURE'
  | 'FILE_MISSING'
  | 'FILE_ALTERED'
  | 'FILE_UNLISTED'
  | 'KEY_MISSING'
  | 'KEY_MISMATCH'
  | 'CHECKPOINT_MISSING'
  | 'CHECKPOINT_INVALID'
  | 'ENTRY_MALFORMED'
  | 'ENTRY_ALTERED'
  | 'ENTRY_NOT_INCLUDED'
  | 'CHAIN_BROKEN'
  | 'EVIDENCE_UNPROVEN'
  | 'ATTESTATION_INVALID';

export interface PackProblem {
  code: PackProblemCode;
  file?: string;
  seq?: number;
  message: string;
}

export interface PackVerification {
  ok: boolean;
  problems: PackProblem[];
  warnings: string[];
  files: number;
  entries: number;
  attestations: number;
  keyId?: string;
  checkpoint?: { treeSize: number; rootHash: string; time: string };
}

const MAX_PROBLEMS = 50;

/**
 * Verifies an evidence pack offline: the manifest's signature, every file's SHA-256, every
 * ledger entry's hash recomputed from canonical JSON, every inclusion proof against the
 * checkpoint's root, the checkpoint's DSSE signature, the verification attestations, and the
 * archive itself rebuilt byte for byte. It never reports success on altered evidence. The key
 * it checks with travels in the pack, so it also says to compare that key with the
 * organisation's published one (or pass `expectedPublicKey` to do so).
 */
export async function verifyPack(
  zip: Buffer,
  options: { expectedPublicKey?: string } = {},
): Promise<PackVerification> {
  const v = new PackCheck();
  let files: PackFile[];
  try {
    files = await readZip(zip);
  } catch (error) {
    v.problem('PACK_UNREADABLE', `not a readable evidence pack: ${messageOf(error)}`);
    return v.result(0);
  }
  const byPath = new Map(files.map((f) => [f.path, f.data]));
  const key = byPath.get(PACK_FILES.publicKey)?.toString('utf8');
  if (!key) v.problem('KEY_MISSING', `${PACK_FILES.publicKey} is missing`, PACK_FILES.publicKey);
  else v.checkKey(key, options.expectedPublicKey);

  const manifest = key ? v.checkManifest(byPath.get(PACK_FILES.manifest), key) : undefined;
  if (manifest) v.checkFiles(manifest, files);
  const checkpoint = key
    ? v.checkCheckpoint(byPath.get(PACK_FILES.checkpoint), key, manifest)
    : undefined;
  const proven = checkpoint
    ? v.checkEntries(byPath.get(PACK_FILES.entries), checkpoint, key!)
    : new Set<number>();
  v.checkEvidenceReferences(byPath.get(PACK_FILES.evidence), proven);
  await v.checkArchive(zip, files);
  return v.result(files.length);
}

class PackCheck {
  readonly problems: PackProblem[] = [];
  readonly warnings: string[] = [];
  entries = 0;
  attestations = 0;
  keyId?: string;
  checkpoint?: Checkpoint;

  problem(code: PackProblemCode, message: string, file?: string, seq?: number): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ code, file, seq, message });
  }

  result(files: number): PackVerification {
    const cp = this.checkpoint;
    return {
      ok: this.problems.length === 0,
      problems: this.problems,
      warnings: this.warnings,
      files,
      entries: this.entries,
      attestations: this.attestations,
      keyId: this.keyId,
      checkpoint: cp && { treeSize: cp.treeSize, rootHash: cp.rootHash, time: cp.time },
    };
  }

  checkKey(key: string, expected: string | undefined): void {
    try {
      this.keyId = keyIdOf(key);
    } catch (error) {
      return this.problem(
        'KEY_MISSING',
        `the public key does not parse: ${messageOf(error)}`,
        PACK_FILES.publicKey,
      );
    }
    if (expected === undefined) {
      this.warnings.push(
        `signatures were checked with the key inside the pack (key id ${this.keyId}); compare it with the organisation's published control-plane key, or pass --key`,
      );
    } else if (keyIdOf(expected) !== this.keyId) {
      this.problem(
        'KEY_MISMATCH',
        `the pack was signed with key ${this.keyId}, not the expected ${keyIdOf(expected)}`,
        PACK_FILES.publicKey,
      );
    }
  }

  checkManifest(data: Buffer | undefined, key: string): PackManifest | undefined {
    const file = PACK_FILES.manifest;
    if (!data) return void this.problem('MANIFEST_MISSING', `${file} is missing`, file);
    let envelope: DsseEnvelope;
    try {
      envelope = JSON.parse(data.toString('utf8')) as DsseEnvelope;
    } catch {
      return void this.problem('MANIFEST_INVALID', `${file} is not JSON`, file);
    }
    // Canonical bytes and canonical base64: no byte of the envelope can change unnoticed.
    const canonical =
      canonicalize(envelope) === data.toString('utf8') &&
      isCanonicalBase64(envelope.payload) &&
      envelope.signatures?.every((s) => isCanonicalBase64(s.sig));
    if (!canonical)
      return void this.problem(
        'MANIFEST_INVALID',
        `${file} is not in its canonical form (edited)`,
        file,
      );
    if (envelope.payloadType !== MANIFEST_PAYLOAD_TYPE || !safeVerify(envelope, key)) {
      return void this.problem(
        'MANIFEST_SIGNATURE',
        `${file}: the signature does not verify with the pack's key`,
        file,
      );
    }
    const manifest = JSON.parse(envelopePayload(envelope).toString('utf8')) as PackManifest;
    if (manifest.format !== PACK_FORMAT)
      return void this.problem('MANIFEST_INVALID', `unknown pack format ${manifest.format}`, file);
    return manifest;
  }

  checkFiles(manifest: PackManifest, files: PackFile[]): void {
    const listed = new Map(manifest.files.map((f) => [f.path, f]));
    for (const file of files) {
      if (file.path === PACK_FILES.manifest) continue;
      const entry = listed.get(file.path);
      if (!entry) this.problem('FILE_UNLISTED', `${file.path} is not in the manifest`, file.path);
      else if (
        hash('sha256', file.data, 'hex') !== entry.sha256 ||
        file.data.length !== entry.size
      ) {
        this.problem(
          'FILE_ALTERED',
          `${file.path} does not match its SHA-256 in the manifest`,
          file.path,
        );
      }
    }
    for (const path of listed.keys()) {
      if (!files.some((f) => f.path === path))
        this.problem('FILE_MISSING', `${path} is listed but missing`, path);
    }
  }

  checkCheckpoint(
    data: Buffer | undefined,
    key: string,
    manifest: PackManifest | undefined,
  ): Checkpoint | undefined {
    const file = PACK_FILES.checkpoint;
    if (!data)
      return void this.problem(
        'CHECKPOINT_MISSING',
        `${file} is missing: the entries cannot be proven`,
        file,
      );
    let checkpoint: Checkpoint;
    try {
      checkpoint = JSON.parse(data.toString('utf8')) as Checkpoint;
    } catch {
      return void this.problem('CHECKPOINT_INVALID', `${file} is not JSON`, file);
    }
    let reason: string | undefined;
    try {
      reason = checkCheckpoint(checkpoint, key);
    } catch (error) {
      reason = messageOf(error);
    }
    if (reason) return void this.problem('CHECKPOINT_INVALID', `${file}: ${reason}`, file);
    if (
      manifest &&
      (manifest.checkpoint.rootHash !== checkpoint.rootHash ||
        manifest.checkpoint.treeSize !== checkpoint.treeSize)
    ) {
      return void this.problem(
        'CHECKPOINT_INVALID',
        `${file} is not the checkpoint the manifest names`,
        file,
      );
    }
    this.checkpoint = checkpoint;
    return checkpoint;
  }

  /** Recomputes each entry's hash and walks its inclusion proof to the checkpoint's root. */
  checkEntries(data: Buffer | undefined, checkpoint: Checkpoint, key: string): Set<number> {
    const file = PACK_FILES.entries;
    const proven = new Set<number>();
    if (!data) return (this.problem('FILE_MISSING', `${file} is missing`, file), proven);
    const inclusion = new InclusionChecker(
      checkpoint.treeSize,
      Buffer.from(checkpoint.rootHash, 'hex'),
    );
    const publicKey = parsedKey(key);
    let previous: PackedEntry['entry'] | undefined;
    for (const line of data.toString('utf8').split('\n')) {
      if (line === '') continue;
      const packed = parseLine(line);
      if (!packed) {
        this.problem('ENTRY_MALFORMED', `a line of ${file} is not a packed entry`, file);
        continue;
      }
      this.entries += 1;
      const { hash: claimed, ...unhashed } = packed.entry;
      const seq = packed.entry.seq;
      if (hashEntry(unhashed as never) !== claimed) {
        this.problem('ENTRY_ALTERED', `entry ${seq} does not match its hash`, file, seq);
        continue;
      }
      const included =
        packed.leafIndex === seq - 1 &&
        packed.treeSize === checkpoint.treeSize &&
        inclusion.verify(leafHash(claimed), packed.leafIndex, packed.path);
      if (!included) {
        this.problem(
          'ENTRY_NOT_INCLUDED',
          `entry ${seq} is not proven under checkpoint ${checkpoint.treeSize}`,
          file,
          seq,
        );
        continue;
      }
      if (previous && previous.seq === seq - 1 && packed.entry.prev !== previous.hash) {
        this.problem('CHAIN_BROKEN', `entry ${seq} does not link to entry ${seq - 1}`, file, seq);
      }
      this.checkAttestation(packed.entry, publicKey);
      previous = packed.entry;
      proven.add(seq);
    }
    return proven;
  }

  checkAttestation(entry: PackedEntry['entry'], key: KeyObject | string): void {
    const attestation = entry.payload.attestation as DsseEnvelope | undefined;
    if (entry.kind !== 'verification.sealed' || !attestation?.signatures) return;
    this.attestations += 1;
    if (!safeVerify(attestation, key)) {
      this.problem(
        'ATTESTATION_INVALID',
        `the verification attestation in entry ${entry.seq} does not verify`,
        PACK_FILES.entries,
        entry.seq,
      );
    }
  }

  checkEvidenceReferences(data: Buffer | undefined, proven: Set<number>): void {
    if (!data) return;
    let evidence: { deployments?: { id: string; evidence?: number[] }[] };
    try {
      evidence = JSON.parse(data.toString('utf8'));
    } catch {
      return this.problem(
        'FILE_ALTERED',
        `${PACK_FILES.evidence} is not JSON`,
        PACK_FILES.evidence,
      );
    }
    for (const deployment of evidence.deployments ?? []) {
      const missing = (deployment.evidence ?? []).filter((seq) => !proven.has(seq));
      if (missing.length > 0) {
        this.problem(
          'EVIDENCE_UNPROVEN',
          `${deployment.id} cites entries ${missing.join(', ')} that the pack does not prove`,
          PACK_FILES.evidence,
        );
      }
    }
  }

  /** The archive must be exactly what the exporter writes for these files: no other byte. */
  async checkArchive(zip: Buffer, files: PackFile[]): Promise<void> {
    const rebuilt = await writeZip(files);
    if (rebuilt.equals(zip)) return;
    let offset = 0;
    while (offset < zip.length && zip[offset] === rebuilt[offset]) offset += 1;
    this.problem(
      'ARCHIVE_ALTERED',
      `the zip container differs from its canonical form at byte ${offset}`,
    );
  }
}

function parseLine(line: string): PackedEntry | undefined {
  try {
    const packed = JSON.parse(line) as PackedEntry;
    const ok =
      typeof packed.entry?.seq === 'number' &&
      typeof packed.entry.hash === 'string' &&
      typeof packed.leafIndex === 'number' &&
      typeof packed.treeSize === 'number' &&
      Array.isArray(packed.path);
    return ok ? packed : undefined;
  } catch {
    return undefined;
  }
}

function safeVerify(envelope: DsseEnvelope, key: KeyObject | string): boolean {
  try {
    return verifyEnvelope(envelope, key);
  } catch {
    return false;
  }
}

/** The key parsed once for the many attestations; as text if it does not parse (each then fails). */
function parsedKey(key: string): KeyObject | string {
  try {
    return createPublicKey(key);
  } catch {
    return key;
  }
}

function isCanonicalBase64(text: unknown): boolean {
  return typeof text === 'string' && Buffer.from(text, 'base64').toString('base64') === text;
}
