import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { demoSteps } from '../../demo/story.ts';
import { startControlPlane, type ControlPlane } from '../../server/control-plane.ts';
import { LocalIdentity } from '../../embedded/identity/index.ts';
import { openWorkspace, type WorkspaceContext } from '../../workspace/context.ts';
import { initWorkspace } from '../../workspace/init.ts';
import { DEMO_REVIEW_WINDOW } from '../../demo/emergency-steps.ts';
import { CONFIG_FILE } from '../../workspace/paths.ts';
import { commandContext } from '../context.ts';

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole story on the embedded defaults and print what happened')
    .option('--keep-running', 'keep the control plane up after the story, until Ctrl-C')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const flag = command.optsWithGlobals<{ workspace?: string }>().workspace;
      const root = flag ? resolve(flag) : mkdtempSync(join(tmpdir(), 'changeproof-demo-'));
      const say = (line: string) => process.stdout.write(`  ${line}\n`);
      try {
        // A short review window lets the story show an overdue retroactive review being caught.
        if (!existsSync(join(root, CONFIG_FILE))) {
          await initWorkspace({
            dir: root,
            name: 'demo',
            productionReviewWindow: DEMO_REVIEW_WINDOW,
          });
        }
        process.stdout.write(`changeproof demo: workspace ${root}\n`);
        const ws = await openWorkspace(root);
        const plane = await startControlPlane(ws, { logger: context.logger, port: 0 });
        try {
          for (const endpoint of plane.endpoints)
            say(`started ${endpoint.name} at ${endpoint.url}`);
          const memory = new Map<string, string>();
          for (const [index, step] of demoSteps.entries()) {
            process.stdout.write(`\n${index + 1}. ${step.title}\n`);
            await step.run({ ws, plane, logger: context.logger, say, memory });
          }
          await printDashboard(ws, plane);
          if (options.keepRunning) {
            process.stdout.write('\ncontrol plane running; press Ctrl-C to stop\n');
            await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
          }
        } finally {
          await plane.close();
          await ws.close();
        }
        process.stdout.write(`\ndemo finished${flag ? `; workspace kept at ${root}` : ''}\n`);
      } finally {
        if (!flag) rmSync(root, { recursive: true, force: true });
      }
    });
}

/** The dashboard's address with an auditor's token in the fragment (never sent to the server). */
async function printDashboard(ws: WorkspaceContext, plane: ControlPlane): Promise<void> {
  const base = plane.endpoints.find((endpoint) => endpoint.name === 'control-plane')?.url;
  const user = ws.config.identities.find((identity) => identity.roles.includes('auditor'));
  if (!base || !user) return;
  const issued = await new LocalIdentity(ws.config, ws.store, ws.ledger).issue(user.name, {
    issuedBy: 'demo',
    ttlSeconds: 24 * 3600,
  });
  process.stdout.write(`\ndashboard: ${base}/#token=${issued.token}\n`);
  process.stdout.write(`token (${user.name}, ${user.roles.join(', ')}): ${issued.token}\n`);
}
