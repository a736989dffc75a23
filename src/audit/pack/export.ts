import { hash } from 'node:crypto';
import { keyIdOf } from '../../embedded/secret-broker/keys.ts';
import { canonicalize } from '../../ledger/canonical.ts';
import type { Checkpoint } from '../../ledger/checkpoint.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { signEnvelope } from '../../supply-chain/dsse.ts';
import type { Signer } from '../../supply-chain/signer.ts';
import { requirePopulation, type AuditScope } from '../audit.ts';
import { toCsv } from '../csv.ts';
import { AuditError } from '../errors.ts';
import { runControlAudit, type AuditInputs } from '../inputs.ts';
import { POPULATION_COLUMNS, populationCsvRows } from '../population-table.ts';
import { renderReport } from './html.ts';
import { MANIFEST_PAYLOAD_TYPE, PACK_FILES, PACK_FORMAT, type PackManifest } from './layout.ts';
import { printPdf } from './pdf.ts';
import { writeZip, type PackFile } from './zip.ts';

export const POPULATION_SOURCE =
  "the evidence ledger's sync.completed entries (CD plane) and cluster.change-observed entries (cluster watch) — not change records";

export interface ExportOptions {
  ledger: Ledger;
  /** The control-plane signer: seals a checkpoint when needed and signs the manifest. */
  signer: Signer;
  /** Print the report to PDF with headless Chromium when it is installed (default true). */
  pdf?: boolean;
  now?: Date;
}

export interface ExportResult {
  zip: Buffer;
  deployments: number;
  entries: number;
  failures: number;
  checkpoint: { treeSize: number; rootHash: string; sealedNow: boolean };
  files: string[];
  notes: string[];
}

/**
 * Builds an evidence pack for a scope: the report (HTML, and PDF where Chromium is installed),
 * the population as CSV, the answers and control results as JSON, every ledger entry they rest
 * on with its inclusion proof against a signed checkpoint, that checkpoint, the control-plane
 * public key, and a manifest of SHA-256 digests signed by the same key. It refuses a ledger that
 * does not verify, because a pack must never carry evidence its own chain contradicts.
 */
export async function exportPack(
  inputs: AuditInputs,
  scope: AuditScope,
  options: ExportOptions,
): Promise<ExportResult> {
  const now = options.now ?? new Date();
  const { index, deployments, report, ledger } = await runControlAudit(inputs, scope);
  requirePopulation(deployments, index, scope);
  if (!ledger.ok) {
    const first = ledger.firstProblem!;
    throw new AuditError(
      'LEDGER_BROKEN',
      `the ledger does not verify (${first.code} at ${first.seq ?? `checkpoint ${first.checkpoint}`}: ${first.message}); run changeproof ledger verify and investigate before exporting`,
    );
  }

  const seqs = [
    ...new Set([
      ...deployments.flatMap((d) => d.evidence),
      ...report.failures.flatMap((f) => f.evidence),
    ]),
  ].sort((a, b) => a - b);
  const { checkpoint, sealedNow } = await checkpointCovering(
    options.ledger,
    options.signer,
    seqs.at(-1)!,
  );
  const proofs = await options.ledger.proveInclusion(seqs, checkpoint);
  const entriesJsonl = proofs
    .map((p) =>
      canonicalize({ entry: p.entry, leafIndex: p.leafIndex, treeSize: p.treeSize, path: p.path }),
    )
    .join('\n');

  const header = {
    title: `Production deployments audit: ${scope.envs.join(', ') || 'production'}, ${scope.range.label}`,
    scope: `${scope.envs.join(', ') || 'every production environment'}, ${scope.range.from.toISOString()} to ${scope.range.to.toISOString()} (exclusive)`,
    populationSource: POPULATION_SOURCE,
    generatedAt: now.toISOString(),
    checkpoint: {
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      keyId: checkpoint.keyId,
    },
  };
  const html = renderReport(header, deployments, report);
  const evidence = {
    format: PACK_FORMAT,
    ...header,
    deployments,
    controls: report.controls,
    findings: report.failures,
  };
  const notes: string[] = [];
  const files: PackFile[] = [
    { path: PACK_FILES.report, data: Buffer.from(html) },
    {
      path: PACK_FILES.population,
      data: Buffer.from(toCsv(POPULATION_COLUMNS, populationCsvRows(deployments))),
    },
    { path: PACK_FILES.evidence, data: Buffer.from(`${JSON.stringify(evidence, null, 2)}\n`) },
    { path: PACK_FILES.entries, data: Buffer.from(`${entriesJsonl}\n`) },
    { path: PACK_FILES.checkpoint, data: Buffer.from(`${JSON.stringify(checkpoint, null, 2)}\n`) },
    { path: PACK_FILES.publicKey, data: Buffer.from(inputs.controlPlanePublicKey) },
  ];
  if (options.pdf !== false) {
    const { pdf, note } = await printPdf(html);
    if (pdf) files.splice(1, 0, { path: PACK_FILES.pdf, data: pdf });
    if (note) notes.push(note);
  }

  const manifest: PackManifest = {
    format: PACK_FORMAT,
    createdAt: now.toISOString(),
    scope: {
      envs: scope.envs,
      from: scope.range.from.toISOString(),
      to: scope.range.to.toISOString(),
      label: scope.range.label,
    },
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash },
    keyId: keyIdOf(inputs.controlPlanePublicKey),
    files: files.map((f) => ({
      path: f.path,
      sha256: hash('sha256', f.data, 'hex'),
      size: f.data.length,
    })),
  };
  const envelope = await signEnvelope(
    MANIFEST_PAYLOAD_TYPE,
    Buffer.from(canonicalize(manifest)),
    options.signer,
  );
  const zip = await writeZip([
    { path: PACK_FILES.manifest, data: Buffer.from(canonicalize(envelope)) },
    ...files,
  ]);
  return {
    zip,
    deployments: deployments.length,
    entries: proofs.length,
    failures: report.failures.length,
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, sealedNow },
    files: [PACK_FILES.manifest, ...files.map((f) => f.path)],
    notes,
  };
}

/** The latest checkpoint if it seals `seq`, else a new one sealed now. */
async function checkpointCovering(
  ledger: Ledger,
  signer: Signer,
  seq: number,
): Promise<{ checkpoint: Checkpoint; sealedNow: boolean }> {
  const latest = await ledger.latestCheckpoint();
  if (latest && latest.treeSize >= seq) return { checkpoint: latest, sealedNow: false };
  return { checkpoint: await ledger.seal(signer), sealedNow: true };
}
