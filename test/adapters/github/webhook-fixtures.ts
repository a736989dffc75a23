import type { ForgePolicy } from '../../../src/embedded/forge/index.ts';

/** The pipeline's and a reviewer's GitHub tokens, as the emulator knows them. */
export const webhookTokens = { 'tok-ci': 'ci-bot', 'tok-bob': 'bob' };

/** A routine prod image bump: the one file a pull request in the webhook tests changes. */
export const routineBump = {
  filename: 'apps/payments/overlays/prod/kustomization.yaml',
  patch: '@@ -3,1 +3,1 @@\n-    newTag: v1\n+    newTag: v2',
};

/** One approval, no required contexts, unsigned commits allowed: what the webhook tests need. */
export const oneApprovalPolicy: ForgePolicy = {
  protectionFor: async () => ({
    requiredApprovals: 1,
    requiredContexts: [],
    requireSignedCommits: false,
  }),
  rolesOf: () => [],
};
