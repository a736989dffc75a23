import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { AuditError } from '../audit/errors.ts';
import type { AuditedDeployment } from '../audit/types.ts';
import type { ChangeproofConfig, CustomControlConfig } from '../config/schema.ts';
import { messageOf } from '../errors.ts';
import type { ControlDefinition, ControlOutcome } from './catalogue.ts';
import { changesOf } from './change-controls.ts';
import { isProduction, outcome, type ControlContext } from './context.ts';

/** A custom control from changeproof.yaml, compiled once. */
interface CompiledControl {
  definition: ControlDefinition;
  subject: 'deployment' | 'change';
  expression: string;
  evaluate(bindings: Record<string, unknown>): unknown;
}

/** The definitions of the organisation's own controls, for listings beside the catalogue. */
export function customDefinitions(config: ChangeproofConfig): ControlDefinition[] {
  return config.controls.map(definitionOf);
}

/**
 * Evaluates each custom control's CEL expression on every subject of its kind. The expression
 * sees the subject as `deployment` or `change` (the same view either way, see
 * {@link celView}); it passes when it returns true and fails closed on false, an error or a
 * value that is not a boolean.
 */
export function evaluateCustomControls(context: ControlContext): ControlOutcome[] {
  const compiled = context.config.controls.map(compile);
  return compiled.flatMap((control) => {
    const subjects =
      control.subject === 'deployment'
        ? context.deployments.map((d) => ({ subject: `deployment:${d.id}`, d }))
        : changesOf(context.deployments).map((c) => ({ subject: c.subject, d: c.deployment }));
    return subjects.map(({ subject, d }) => run(control, subject, d, context.config));
  });
}

function compile(control: CustomControlConfig): CompiledControl {
  try {
    const evaluate = plan(celEnv(), parse(control.expression));
    return {
      definition: definitionOf(control),
      subject: control.subject,
      expression: control.expression,
      evaluate: (bindings) => evaluate(bindings as never),
    };
  } catch (error) {
    throw new AuditError(
      'CONTROL_INVALID',
      `control ${control.id} in changeproof.yaml: the CEL expression does not parse: ${messageOf(error)}`,
      { category: 'usage', cause: error },
    );
  }
}

function run(
  control: CompiledControl,
  subject: string,
  d: AuditedDeployment,
  config: ChangeproofConfig,
): ControlOutcome {
  const id = control.definition.id;
  const seqs = [d.seq, ...d.approval.approvals.map((a) => a.seq)];
  let result: unknown;
  try {
    result = control.evaluate({ [control.subject]: celView(d, config) });
  } catch (error) {
    result = new Error(messageOf(error));
  }
  if (result === true) return outcome(id, subject, 'pass', `${control.expression} holds`, seqs);
  if (result === false) return outcome(id, subject, 'fail', `${control.expression} is false`, seqs);
  const why =
    isCelError(result) || result instanceof Error ? result.message : `returned ${String(result)}`;
  return outcome(id, subject, 'fail', `${control.expression} could not be evaluated: ${why}`, seqs);
}

function definitionOf(control: CustomControlConfig): ControlDefinition {
  return {
    id: control.id,
    title: control.description,
    subject: control.subject,
    description: control.description,
    soc2: control.frameworks?.soc2 ?? [],
    hitrust: control.frameworks?.hitrust ?? [],
  };
}

/**
 * What a CEL expression sees. Absent facts are empty strings and empty lists, never null, so
 * that `change.type == 'normal'` is false rather than an error when there is no change record.
 *
 * @example
 *   // a production change to a service tagged phi needs two approvals from distinct teams
 *   !('phi' in change.service.tags) || !change.production || size(change.approvalTeams) >= 2
 */
export function celView(d: AuditedDeployment, config: ChangeproofConfig): Record<string, unknown> {
  const service = config.services[d.service];
  const approvals = d.approval.approvals.map((a) => ({
    identity: a.identity,
    roles: a.roles,
    team: a.team ?? '',
    at: a.at,
    source: a.source,
  }));
  const proposal = d.approval.proposal;
  return {
    id: d.id,
    env: d.env,
    production: isProduction(config, d.env),
    app: d.app,
    source: d.source,
    deployedAt: d.deployedAt,
    service: { name: d.service, owner: service?.owner ?? '', tags: service?.tags ?? [] },
    change: { id: d.approval.change?.id ?? '', type: d.approval.change?.type ?? '' },
    path: proposal?.path ?? '',
    author: proposal?.author ?? '',
    lastPusher: proposal?.lastPusher ?? '',
    approvals,
    approvers: [...new Set(approvals.map((a) => a.identity))],
    approvalTeams: [...new Set(approvals.map((a) => a.team).filter((t) => t !== ''))],
    separationOfDuties: d.approval.separationOfDuties.verdict,
    images: d.artifact.images.map((i) => ({
      name: i.name,
      digest: i.digest,
      signedBy: i.signedBy ?? '',
      scanVerdict: i.scanVerdict ?? '',
      sbomDigest: i.sbomDigest ?? '',
    })),
    proof: d.proof.verdict,
    drifts: d.proof.drifts.length,
    verifications: d.proof.verifications.length,
  };
}
