import { parseConfig } from '../../src/config/load.ts';
import type { ChangeproofConfig } from '../../src/config/schema.ts';
import type { AuditInputs } from '../../src/audit/inputs.ts';
import type { Store } from '../../src/store/open.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';

/** The workspace config the audit tests use: prod and staging, a phi-tagged service, five people. */
export const AUDIT_CONFIG_YAML = `
apiVersion: changeproof.dev/v1alpha1
kind: Workspace
name: audit-test
environments:
  - { name: staging, order: 1, cluster: local }
  - { name: prod, order: 2, cluster: local, production: true }
clusters:
  local: { type: sandbox }
services:
  checkout: { owner: payments, tags: [phi] }
  search: { owner: discovery }
identities:
  - { name: alice, roles: [developer], team: payments }
  - { name: bob, roles: [approver], team: payments }
  - { name: carol, roles: [cab], team: governance }
  - { name: dave, roles: [oncall], team: sre }
  - { name: erin, roles: [approver], team: sre }
controls:
  - id: ACME-PHI-2
    description: a production change to a phi service needs approvals from two distinct teams
    subject: change
    expression: "!('phi' in change.service.tags) || !change.production || size(change.approvalTeams) >= 2"
    frameworks: { hitrust: ['09.c'] }
`;

export function auditConfig(): ChangeproofConfig {
  return parseConfig(AUDIT_CONFIG_YAML);
}

export function auditInputs(
  store: Store,
  controlPlane: Signer,
  now: Date,
  config = auditConfig(),
): AuditInputs {
  return {
    store,
    config,
    controlPlanePublicKey: controlPlane.publicKeyPem,
    pipelineKeyIds: ['pipeline-key'],
    now,
  };
}
