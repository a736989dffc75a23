import { CONTROLS, type ControlDefinition, type ControlOutcome } from './catalogue.ts';
import { evaluateChangeControls } from './change-controls.ts';
import type { ControlContext } from './context.ts';
import { customDefinitions, evaluateCustomControls } from './custom-controls.ts';
import { evaluateDeploymentControls } from './deployment-controls.ts';
import { evaluateOperationControls } from './operation-controls.ts';

export interface ControlSummary extends ControlDefinition {
  evaluated: number;
  passed: number;
  failed: number;
  pending: number;
}

/** Every control over a period: a summary per control and each failure with its evidence. */
export interface ControlReport {
  range: string;
  controls: ControlSummary[];
  failures: ControlOutcome[];
  outcomes: ControlOutcome[];
}

/** Evaluates the catalogue (CP-01..CP-15) and the organisation's CEL controls. */
export function evaluateControls(context: ControlContext): ControlReport {
  const outcomes = [
    ...evaluateDeploymentControls(context),
    ...evaluateChangeControls(context),
    ...evaluateOperationControls(context),
    ...evaluateCustomControls(context),
  ];
  const definitions = [...CONTROLS, ...customDefinitions(context.config)];
  const controls = definitions.map((definition) => {
    const mine = outcomes.filter(
      (o) => o.control === definition.id && o.status !== 'not-applicable',
    );
    return {
      ...definition,
      evaluated: mine.length,
      passed: mine.filter((o) => o.status === 'pass').length,
      failed: mine.filter((o) => o.status === 'fail').length,
      pending: mine.filter((o) => o.status === 'pending').length,
    };
  });
  const order = new Map(definitions.map((d, i) => [d.id, i]));
  const failures = outcomes
    .filter((o) => o.status === 'fail')
    .sort(
      (a, b) => order.get(a.control)! - order.get(b.control)! || a.subject.localeCompare(b.subject),
    );
  return { range: context.range.label, controls, failures, outcomes };
}
