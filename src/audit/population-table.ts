import type { AuditedDeployment } from './types.ts';

/** One flat row per deployment: the population as an auditor's spreadsheet shows it. */
export interface PopulationRow {
  deployment: string;
  source: string;
  env: string;
  service: string;
  deployedAt: string;
  configCommit: string;
  change: string;
  changeType: string;
  author: string;
  approvers: string;
  separationOfDuties: string;
  images: string;
  sourceCommits: string;
  scan: string;
  signedBy: string;
  appliedDigest: string;
  verifiedLiveAt: string;
  drifts: number;
  proof: string;
  ledgerSeq: number;
}

export const POPULATION_COLUMNS: (keyof PopulationRow)[] = [
  'deployment',
  'source',
  'env',
  'service',
  'deployedAt',
  'configCommit',
  'change',
  'changeType',
  'author',
  'approvers',
  'separationOfDuties',
  'images',
  'sourceCommits',
  'scan',
  'signedBy',
  'appliedDigest',
  'verifiedLiveAt',
  'drifts',
  'proof',
  'ledgerSeq',
];

export function populationRow(d: AuditedDeployment): PopulationRow {
  const images = d.artifact.images;
  return {
    deployment: d.id,
    source: d.source,
    env: d.env,
    service: d.service,
    deployedAt: d.deployedAt,
    configCommit: d.configCommit ?? '',
    change: d.approval.change?.id ?? '',
    changeType: d.approval.change?.type ?? d.approval.proposal?.path ?? '',
    author: d.approval.proposal?.author ?? '',
    approvers: d.approval.approvals.map((a) => `${a.identity} (${a.roles.join('/')})`).join('; '),
    separationOfDuties: d.approval.separationOfDuties.verdict,
    images: images.map((i) => `${i.name}@${i.digest}`).join('; '),
    sourceCommits: d.artifact.sourceCommits.join('; '),
    scan: [...new Set(images.map((i) => i.scanVerdict ?? 'none'))].join('; '),
    signedBy: [...new Set(images.map((i) => i.signedBy ?? 'unsigned'))].join('; '),
    appliedDigest: d.proof.appliedDigest ?? '',
    verifiedLiveAt: d.proof.lastVerifiedEqualAt ?? '',
    drifts: d.proof.drifts.length,
    proof: d.proof.verdict,
    ledgerSeq: d.seq,
  };
}

export function populationCsvRows(deployments: AuditedDeployment[]): (string | number)[][] {
  return deployments.map((d) => {
    const row = populationRow(d);
    return POPULATION_COLUMNS.map((column) => row[column]);
  });
}
