import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { changeManagementFor } from '../../src/change/index.ts';
import type { WorkspaceContext } from '../../src/workspace/context.ts';
import type { GithubEmulator } from '../emulators/github/server.ts';

/** Selects GitHub (the emulator) as the forge in a workspace's changeproof.yaml. */
export function selectGithub(github: GithubEmulator, configFile: string): void {
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  document.setIn(['adapters', 'forge'], 'github');
  document.setIn(['adapters', 'github'], { owner: 'acme', repo: 'config', apiUrl: github.url });
  writeFileSync(configFile, document.toString());
}

/**
 * Opens `count` routine dev bumps as pull requests on the emulator, the load the webhook bench
 * and the webhook load row deliver events for; returns their numbers.
 */
export async function openBumpProposals(
  ws: WorkspaceContext,
  github: GithubEmulator,
  count: number,
): Promise<number[]> {
  const cm = changeManagementFor(ws);
  const numbers: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const branch = `bump-${i}`;
    github.push(branch, [
      {
        filename: 'apps/checkout/overlays/dev/kustomization.yaml',
        patch: `@@ -3,2 +3,2 @@\n-    newTag: v1\n+    newTag: v1.${i}`,
      },
    ]);
    const proposal = await cm.forge.openProposal({
      title: `checkout v1.${i}`,
      description: 'routine image bump',
      author: 'alice',
      branch,
      evidence: { artifact: `127.0.0.1:5000/checkout@sha256:${'a'.repeat(64)}` },
    });
    numbers.push(Number(proposal.id));
  }
  return numbers;
}
