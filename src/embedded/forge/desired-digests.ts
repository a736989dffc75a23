import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proposal } from '../../domain/forge.ts';
import { desiredStateDigest } from '../../gitops/render.ts';
import { appLabelOf, labelled } from '../../reconcile/application.ts';
import {
  checkoutCommit,
  listAppSources,
  renderApp,
  type AppSource,
} from '../../reconcile/config-repo.ts';

/** The desired-state digest one application has at a proposal's head. */
export interface ApprovedDigest {
  /** `<env>/<service>`, as in the ledger subject `app:<env>/<service>`. */
  app: string;
  digest: string;
}

const OVERLAY_PATH = /^apps\/([^/]+)\/overlays\/([^/]+)\//;
const APP_PATH = /^apps\/([^/]+)\//;

/**
 * The desired state the approvals of a proposal cover: every application whose rendering the
 * proposal can change (an edited overlay, or every overlay of a service whose base it edits),
 * rendered at its head and digested exactly as the CD plane digests what it applies. An
 * application that does not render is left out: its render check failed, and the CD plane
 * refuses it as well.
 */
export async function approvedDesiredDigests(
  gitDir: string,
  proposal: Pick<Proposal, 'headCommit' | 'changedPaths'>,
): Promise<ApprovedDigest[]> {
  const sources = await touchedApplications(gitDir, proposal);
  if (sources.length === 0) return [];
  const cacheDir = mkdtempSync(join(tmpdir(), 'changeproof-approved-'));
  try {
    const tree = await checkoutCommit(gitDir, proposal.headCommit, cacheDir);
    const digests: ApprovedDigest[] = [];
    for (const source of sources) {
      const digest = await digestOf(tree, source);
      if (digest) digests.push({ app: `${source.env}/${source.service}`, digest });
    }
    return digests;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The applications at the head whose overlay or base the proposal changes, sorted by id. */
async function touchedApplications(
  gitDir: string,
  proposal: Pick<Proposal, 'headCommit' | 'changedPaths'>,
): Promise<AppSource[]> {
  const paths = proposal.changedPaths ?? [];
  const overlays = new Set<string>();
  const services = new Set<string>();
  for (const path of paths) {
    const overlay = OVERLAY_PATH.exec(path);
    if (overlay) overlays.add(`${overlay[2]}/${overlay[1]}`);
    else if (APP_PATH.exec(path)) services.add(APP_PATH.exec(path)![1]!);
  }
  if (overlays.size === 0 && services.size === 0) return [];
  const existing = await listAppSources(gitDir, proposal.headCommit);
  return existing.filter(
    (source) => services.has(source.service) || overlays.has(`${source.env}/${source.service}`),
  );
}

/** The digest of one application's objects as the CD plane applies them (with its labels). */
async function digestOf(tree: string, source: AppSource): Promise<string | undefined> {
  try {
    const { objects } = await renderApp(tree, source);
    return desiredStateDigest(labelled(objects, { label: appLabelOf(source) }));
  } catch {
    return undefined;
  }
}
