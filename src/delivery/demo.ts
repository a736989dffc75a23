import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changeManagementFor } from '../change/index.ts';
import { git, identityArgs } from '../gitops/git.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { demoAppDir } from './defaults.ts';
import { deliver } from './pipeline.ts';
import type { DeliveryProgress } from './progress.ts';
import type { RegistryTarget } from './registry-access.ts';
import { registryTargetOf } from './registry-target.ts';
import type { DeliveryResult } from './types.ts';

export interface DemoDeliveryOptions {
  /** Where to push; the workspace's registry (as `changeproof up` published it) by default. */
  registry?: RegistryTarget;
  /** `dev` by default. */
  env?: string;
  progress?: DeliveryProgress;
  /** Changes the app's source before its commit, to deliver a new release. */
  editSource?: (dir: string) => void;
  /** The source commit's message. */
  message?: string;
}

/**
 * Delivers the demo service (`checkout`, from fixtures/demo-app) against a running control
 * plane: the app is copied into a fresh git checkout with one commit by `alice`, then the real
 * pipeline runs, proposing to the workspace's embedded forge.
 *
 * @example const result = await deliverDemoService(ws, { env: 'dev' }); say(result.image);
 */
export async function deliverDemoService(
  ws: WorkspaceContext,
  options: DemoDeliveryOptions = {},
): Promise<DeliveryResult> {
  const checkout = mkdtempSync(join(tmpdir(), 'changeproof-demo-app-'));
  try {
    cpSync(demoAppDir, checkout, {
      recursive: true,
      filter: (path) => !path.endsWith('junit.xml'),
    });
    options.editSource?.(checkout);
    await git(['init', '--quiet', '--initial-branch=main', '.'], { cwd: checkout });
    await git(['add', '--all'], { cwd: checkout });
    const who = identityArgs('alice', 'alice@changeproof.local');
    await git(
      [...who, 'commit', '--quiet', '-m', options.message ?? 'Price baskets with a discount'],
      {
        cwd: checkout,
      },
    );
    return await deliver(
      {
        service: 'checkout',
        env: options.env ?? 'dev',
        sourceDir: checkout,
        junitFile: 'junit.xml',
        author: 'alice',
      },
      {
        config: ws.config,
        ledger: ws.ledger,
        broker: ws.broker,
        forge: changeManagementFor(ws).forge,
        registry: options.registry ?? registryTargetOf(ws),
        ...(options.progress ? { progress: options.progress } : {}),
      },
    );
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
}
