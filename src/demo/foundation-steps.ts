import { verifyLedger } from '../ledger/verify.ts';
import { sealWorkspaceLedger } from '../workspace/checkpoint.ts';
import { controlPlaneUrl, type DemoStep } from './context.ts';

export const controlPlaneStep: DemoStep = {
  title: 'The control plane answers on loopback',
  async run({ plane, say }) {
    const base = controlPlaneUrl(plane);
    const health = await fetch(`${base}/healthz`);
    say(`GET ${base}/healthz -> ${health.status} ${JSON.stringify(await health.json())}`);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('changeproof_ledger_entries'));
    say(`GET ${base}/metrics -> ${line ?? 'no ledger gauge'}`);
  },
};

export const sealAndVerifyStep: DemoStep = {
  title: 'A signed checkpoint seals the ledger, and the whole chain verifies',
  async run({ ws, say }) {
    const checkpoint = await sealWorkspaceLedger(ws);
    say(
      `checkpoint over ${checkpoint?.treeSize} entries, root ${checkpoint?.rootHash.slice(0, 16)}…, signed by control-plane key ${checkpoint?.keyId}`,
    );
    const result = await verifyLedger(ws.store, ws.controlPlanePublicKey);
    if (!result.ok)
      throw new Error(`demo: the ledger does not verify: ${result.firstProblem?.message}`);
    say(`ledger verify: intact (${result.entries} entries, ${result.checkpoints} checkpoints)`);
  },
};
