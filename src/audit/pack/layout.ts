/** The evidence pack's layout and format identifiers, shared by export and verify. */
export const PACK_FORMAT = 'changeproof.evidence-pack/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.changeproof.evidence-pack.manifest.v1+json';

export const PACK_FILES = {
  manifest: 'manifest.dsse.json',
  report: 'index.html',
  pdf: 'report.pdf',
  population: 'population.csv',
  evidence: 'evidence.json',
  entries: 'ledger/entries.jsonl',
  checkpoint: 'checkpoint.json',
  publicKey: 'keys/control-plane.pub.pem',
} as const;

/** What the manifest lists and the control-plane key signs. */
export interface PackManifest {
  format: typeof PACK_FORMAT;
  createdAt: string;
  scope: { envs: string[]; from: string; to: string; label: string };
  checkpoint: { treeSize: number; rootHash: string };
  keyId: string;
  files: { path: string; sha256: string; size: number }[];
}

/** One line of `ledger/entries.jsonl`: an entry and its RFC 9162 inclusion proof. */
export interface PackedEntry {
  entry: {
    seq: number;
    time: string;
    kind: string;
    subject: string;
    actor: string;
    payload: { [key: string]: unknown };
    prev: string;
    hash: string;
  };
  leafIndex: number;
  treeSize: number;
  path: string[];
}
