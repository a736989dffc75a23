import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { changeManagementFor } from '../change/index.ts';
import { deliverDemoService } from '../delivery/demo.ts';
import { evidenceOf } from '../domain/evidence.ts';
import { messageOf } from '../errors.ts';
import { git } from '../gitops/git.ts';
import { demonstrateCdPlane } from '../reconcile/demo.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { controlPlaneUrl, until, type DemoContext, type DemoStep } from './context.ts';

const SERVICE = 'checkout';
const ENV = 'prod';
const APP = `${ENV}/${SERVICE}`;

/** The real pipeline delivers the demo app to prod and proposes it; `key` names the release. */
function deliverStep(key: string, title: string, edit?: (dir: string) => void): DemoStep {
  return {
    title,
    async run({ ws, memory, say }) {
      const result = await deliverDemoService(ws, {
        env: ENV,
        ...(edit ? { editSource: edit, message: 'Round prices half-even' } : {}),
      });
      memory.set(`${key}.proposal`, result.proposal.id);
      say(`image ${result.image} (tag ${result.tag.slice(0, 12)}…, the source commit)`);
      say(
        `SBOM ${result.sbomDigest.slice(0, 19)}…, scan ${result.scanVerdict} ${JSON.stringify(result.scanCounts)}`,
      );
      say(`signed: ${result.signatureTag} + Sigstore bundle; attested: ${result.attestationTag}`);
      say(
        `leases ${result.leases.length} (revoked), cluster credentials held: ${result.clusterCredentialsHeld}`,
      );
      const diff = await proposalDiff(ws, result.proposal.branch);
      say(`proposal ${result.proposal.id} on ${result.proposal.branch}, diff:`);
      for (const line of diff) say(`    ${line}`);
    },
  };
}

async function proposalDiff(ws: WorkspaceContext, branch: string): Promise<string[]> {
  const text = await git(['diff', '--unified=0', `main...${branch}`], { cwd: ws.paths.configRepo });
  return text.split('\n').filter((line) => /^[-+][^-+]/.test(line));
}

/** Self-approval is refused; CAB approves over HTTP; the merge lands on main. */
function reviewStep(key: string): DemoStep {
  return {
    title: 'Review: the author cannot approve; CAB approves over the API; merge',
    async run({ ws, plane, memory, say }) {
      const changes = changeManagementFor(ws);
      const id = memory.get(`${key}.proposal`)!;
      const alice = await changes.identity.authenticate(
        (await changes.identity.issue('alice')).token,
      );
      const proposal = await changes.forge.getProposal(id);
      try {
        await changes.service.approve(alice, id);
        throw new Error('demo: alice approved her own change');
      } catch (error) {
        say(
          `alice approves her own proposal -> refused ${(error as { code?: string }).code}: ${messageOf(error)}`,
        );
      }
      const carol = (await changes.identity.issue('carol')).token;
      const response = await fetch(`${controlPlaneUrl(plane)}/api/v1/proposals/${id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
        body: JSON.stringify({ commit: proposal.headCommit }),
      });
      const approval = (await response.json()) as { gate?: { state: string; rule: string } };
      say(
        `carol (cab) approves over HTTP -> ${response.status}; gate ${approval.gate?.state} (${approval.gate?.rule})`,
      );
      const merged = await changes.service.merge(alice, id);
      const change = await changes.context.changeSystem.findByProposal(id);
      memory.set(`${key}.commit`, merged.mergeCommit!);
      say(
        `merged: main is ${merged.mergeCommit?.slice(0, 12)}; change ${change?.number} is ${change?.state}`,
      );
    },
  };
}

/** Waits for the CD engine to sync main's commit to prod and reports the deployment. */
function syncStep(key: string): DemoStep {
  return {
    title: 'CD disposes: the engine verifies signatures, applies and records the deployment',
    async run(context) {
      const deployment = await waitForSync(context, context.memory.get(`${key}.commit`)!);
      context.memory.set(`${key}.deployment`, deployment.deployment);
      context.say(
        `${deployment.deployment}: live ${deployment.liveDigest.slice(0, 19)}… equals desired, health ${deployment.health}`,
      );
      await sayChangeState(context, context.memory.get(`${key}.proposal`)!);
    },
  };
}

async function waitForSync({ ws, plane }: DemoContext, configCommit: string) {
  plane.cdEngine?.notifyMerged();
  return until(`the sync of ${configCommit.slice(0, 12)}`, 60_000, async () => {
    const entries = await ws.ledger.list({
      kind: 'sync.completed',
      subject: `deployment:${APP}/*`,
    });
    return entries
      .map((e) => evidenceOf(e, 'sync.completed')!)
      .find((d) => d.configCommit === configCommit);
  });
}

async function sayChangeState({ ws, say }: DemoContext, proposal: string): Promise<void> {
  const change = await changeManagementFor(ws).context.changeSystem.findByProposal(proposal);
  say(`change ${change?.number} (${change?.type}) is ${change?.state} (${change?.stateCode})`);
}

const driftStep: DemoStep = {
  title: 'Someone edits production by hand: drift, incident, revert, verification',
  async run({ ws, plane, say }) {
    if (!plane.cdEngine) throw new Error('demo: the CD engine is not running');
    await demonstrateCdPlane({
      engine: plane.cdEngine,
      ledger: ws.ledger,
      kubeconfig: ws.paths.kubeconfig,
      context: ws.config.environments.find((e) => e.name === ENV)!.cluster,
      env: ENV,
      service: SERVICE,
      report: say,
    });
  },
};

/** The demo app's next release: a real source change, so a new image and digest. */
function editPricing(dir: string): void {
  writeFileSync(join(dir, 'src', 'rounding.js'), 'export const rounding = "half-even";\n');
}

export const releaseSteps: DemoStep[] = [
  deliverStep(
    'first',
    'CI proposes: changeproof deliver tests, builds, scans, signs, attests, proposes',
  ),
  reviewStep('first'),
  syncStep('first'),
  driftStep,
  deliverStep('second', 'The next release goes the same way', editPricing),
  reviewStep('second'),
  syncStep('second'),
];

export { APP, ENV, SERVICE, waitForSync, sayChangeState };
