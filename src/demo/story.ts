import type { Logger } from '../log.ts';
import { verifyLedger } from '../ledger/verify.ts';
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
