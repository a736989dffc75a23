import { changeManagementFor } from '../change/index.ts';
import { bumpImageTag, commitFilesSigned } from '../embedded/forge/commit-files.ts';
import { messageOf } from '../errors.ts';
import { git } from '../gitops/git.ts';
import type { Logger } from '../log.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { sayAuditAnswer } from '../audit/demo-answer.ts';
import { sealCheckpoint, type ControlPlane } from '../server/control-plane.ts';
import type { WorkspaceContext } from '../workspace/context.ts';

/** What one demo step is given: the open workspace and the running control plane. */
export interface DemoContext {
  ws: WorkspaceContext;
  plane: ControlPlane;
  logger: Logger;
  say(line: string): void;
}

export interface DemoStep {
  title: string;
  run(context: DemoContext): Promise<void>;
}

/**
 * The demo's story, in order. Each step does the real thing against the embedded services and
 * reports what it observed; nothing here prints a result it did not measure.
 */
export const demoSteps: DemoStep[] = [
  {
    title: 'Control plane answers on loopback',
    async run({ plane, say }) {
      const base = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
      const health = await fetch(`${base}/healthz`);
      say(`GET ${base}/healthz -> ${health.status} ${JSON.stringify(await health.json())}`);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const line = metrics.split('\n').find((l) => l.startsWith('changeproof_ledger_entries'));
      say(`GET ${base}/metrics -> ${line ?? 'no ledger gauge'}`);
    },
  },
  {
    title: 'Decisions land in the evidence ledger',
    async run({ ws, say }) {
      const lease = await ws.broker.openLease({
        holder: 'demo',
        scopes: ['sign:pipeline'],
        ttlSeconds: 60,
      });
      const entry = await ws.ledger.append({
        kind: 'demo.started',
        subject: `workspace:${ws.config.name}`,
        actor: 'demo',
        payload: { services: Object.keys(ws.config.services), lease: lease.id },
      });
      await ws.broker.revokeLease(lease.id);
      const head = await ws.ledger.head();
      say(
        `appended entry ${entry.seq} (${entry.kind}), hash ${entry.hash.slice(0, 16)}…; head is ${head?.seq}`,
      );
    },
  },
  {
    title: 'A signed checkpoint seals the ledger, and the chain verifies',
    async run({ ws, say }) {
      const checkpoint = await sealCheckpoint(ws);
      say(
        `checkpoint over ${checkpoint?.treeSize} entries, root ${checkpoint?.rootHash.slice(0, 16)}…, signed by key ${checkpoint?.keyId}`,
      );
      const result = await verifyLedger(ws.store, ws.controlPlanePublicKey);
      say(
        result.ok
          ? `ledger verify: intact (${result.entries} entries, ${result.checkpoints} checkpoints)`
          : `ledger verify: BROKEN: ${result.firstProblem?.message}`,
      );
      if (!result.ok) throw new Error('the demo ledger does not verify');
    },
  },
];

/** A signed routine image bump of the sample service on a new branch of the config repo. */
async function commitDemoBump(ws: WorkspaceContext, env: string, tag: string): Promise<string> {
  const branch = `demo/${env}-${tag}-${Date.now().toString(36)}`;
  const path = `apps/checkout/overlays/${env}/kustomization.yaml`;
  const overlay = await git(['show', `main:${path}`], { cwd: ws.paths.configRepo });
  const lease = await ws.broker.openLease({
    holder: 'demo:pipeline',
    scopes: ['sign:pipeline'],
    ttlSeconds: 60,
  });
  try {
    await commitFilesSigned({
      gitDir: ws.paths.configRepo,
      branch,
      files: { [path]: bumpImageTag(overlay, tag) },
      message: `Deploy checkout ${tag} to ${env}`,
      author: { name: 'changeproof pipeline', email: 'pipeline@changeproof.local' },
      signer: await ws.broker.signer(lease.id, 'pipeline'),
    });
  } finally {
    await ws.broker.revokeLease(lease.id);
  }
  return branch;
}

const demoEvidence = {
  artifact: `127.0.0.1/checkout@sha256:${'0'.repeat(64)}`,
  scanVerdict: 'pass',
  signer: 'pipeline',
};

demoSteps.push(
  {
    title: 'A production proposal: refused for self-approval, approved by CAB, merged',
    async run({ ws, plane, say }) {
      const changes = changeManagementFor(ws);
      const alice = await changes.identity.authenticate(
        (await changes.identity.issue('alice')).token,
      );
      const branch = await commitDemoBump(ws, 'prod', 'v1.4.2');
      const proposal = await changes.service.openProposal(alice, {
        title: 'Deploy checkout v1.4.2 to prod',
        description: 'routine image bump from the pipeline',
        branch,
        evidence: demoEvidence,
      });
      const change = await changes.context.changeSystem.findByProposal(proposal.id);
      say(
        `alice opened proposal ${proposal.id} (${proposal.routine ? 'routine' : 'non-routine'}, head ${proposal.headCommit.slice(0, 12)}, signed by the pipeline); change ${change?.number} is ${change?.state}`,
      );
      try {
        await changes.service.approve(alice, proposal.id);
        say('alice approved her own change: THIS SHOULD NOT HAPPEN');
      } catch (error) {
        say(
          `alice approves her own proposal -> refused ${(error as { code?: string }).code}: ${messageOf(error)}`,
        );
      }
      const base = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
      const carolToken = (await changes.identity.issue('carol')).token;
      const response = await fetch(`${base}/api/v1/proposals/${proposal.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${carolToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ commit: proposal.headCommit }),
      });
      const approval = (await response.json()) as { gate?: { state: string; rule: string } };
      say(
        `carol (cab) approves over HTTP -> ${response.status}; gate ${approval.gate?.state} (${approval.gate?.rule})`,
      );
      const merged = await changes.service.merge(alice, proposal.id);
      const after = await changes.context.changeSystem.findByProposal(proposal.id);
      say(
        `merged: main is ${merged.mergeCommit?.slice(0, 12)}; change ${after?.number} is ${after?.state} (${after?.stateCode}), approvals ${after?.approvals.map((a) => `${a.approver}/${a.role}`).join(', ')}`,
      );
      const refusals = await ws.ledger.list({
        kind: 'proposal.refused',
        subject: `proposal:${proposal.id}`,
      });
      say(`ledger: ${refusals.length} refusal(s) recorded for proposal ${proposal.id}`);
    },
  },
  {
    title: 'An emergency change and its retroactive review',
    async run({ ws, say }) {
      const changes = changeManagementFor(ws);
      const actor = async (name: string) =>
        changes.identity.authenticate(
          (await changes.identity.issue(name, { ttlSeconds: 600 })).token,
        );
      const [alice, dave, bob] = [await actor('alice'), await actor('dave'), await actor('bob')];
      const branch = await commitDemoBump(ws, 'prod', 'v1.4.3');
      const proposal = await changes.service.openProposal(alice, {
        title: 'Hotfix checkout v1.4.3',
        description: 'payment retries loop',
        branch,
        evidence: demoEvidence,
      });
      const result = await changes.declareEmergency(dave, {
        proposal: proposal.id,
        reason: 'checkout payments failing since 14:02',
      });
      say(
        `dave (oncall) declared an emergency on proposal ${proposal.id}: ${result.proposal.state}, change ${result.change?.number} (${result.change?.type}) is ${result.change?.state}; review due by ${result.reviewDueBy}`,
      );
      const afterWindow = new Date(Date.parse(result.reviewDueBy) + 3_600_000);
      const overdue = await changes.overdueRetroReviews(afterWindow);
      say(
        `an hour past the window, unreviewed: ${overdue.length} finding(s) ${overdue.map((f) => `${f.control} ${f.change}`).join(', ')}`,
      );
      await changes.recordRetroReview(bob, result.change!.number, {
        outcome: 'accepted',
        notes: 'fix confirmed',
      });
      const still = await changes.overdueRetroReviews(afterWindow);
      say(`bob (approver) reviewed it retroactively: accepted; findings now ${still.length}`);
    },
  },
);

// The audit's answer comes last: it reads what every step before it recorded.
demoSteps.push({
  title: "The auditor's answer for every production deployment",
  run: ({ ws, say }) => sayAuditAnswer(ws, say),
});
