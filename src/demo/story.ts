import { sayAuditAnswer } from '../audit/demo-answer.ts';
import type { DemoStep } from './context.ts';
import { emergencySteps } from './emergency-steps.ts';
import { controlPlaneStep, sealAndVerifyStep } from './foundation-steps.ts';
import { releaseSteps } from './release-steps.ts';

export type { DemoContext, DemoStep } from './context.ts';

/**
 * The demo's story, in order: the golden path twice, drift, an emergency rollback, then the
 * auditor's answer over what the story recorded. Each step does the real thing against the
 * embedded services and reports what it observed; nothing prints a result it did not measure.
 */
export const demoSteps: DemoStep[] = [
  controlPlaneStep,
  ...releaseSteps,
  ...emergencySteps,
  sealAndVerifyStep,
  {
    title: "The auditor's answer for every production deployment",
    run: ({ ws, say }) => sayAuditAnswer(ws, say),
  },
];
