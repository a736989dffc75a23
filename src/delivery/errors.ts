import { ChangeproofError, type ErrorCategory } from '../errors.ts';

/** Stable codes of the delivery pipeline's own refusals (steps' libraries keep their codes). */
export type DeliveryErrorCode =
  | 'SOURCE_NOT_GIT'
  | 'SOURCE_DIRTY'
  | 'SOURCE_DETACHED'
  | 'SERVICE_UNKNOWN'
  | 'ENVIRONMENT_UNKNOWN'
  | 'TEST_FAILED'
  | 'SCAN_BLOCKED'
  | 'SCAN_POLICY_LOOSER'
  | 'IMAGE_REFERENCE_INVALID'
  | 'RENDER_MISMATCH'
  | 'REGISTRY_NOT_CONFIGURED'
  | 'CLUSTER_CREDENTIAL_HELD';

const categoryOf: Partial<Record<DeliveryErrorCode, ErrorCategory>> = {
  SERVICE_UNKNOWN: 'usage',
  ENVIRONMENT_UNKNOWN: 'usage',
  IMAGE_REFERENCE_INVALID: 'usage',
  SCAN_POLICY_LOOSER: 'usage',
  REGISTRY_NOT_CONFIGURED: 'usage',
};

/** A delivery refused by the pipeline itself: dirty source, failed tests, a blocked scan. */
export class DeliveryError extends ChangeproofError<DeliveryErrorCode> {
  constructor(
    code: DeliveryErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { category: categoryOf[code] ?? 'refused', ...options });
  }
}

/**
 * A step of a delivery run failed. Keeps the step's name and the original error (its code and
 * category decide the exit code); the message is the original one-line message.
 */
export class DeliveryStepError extends ChangeproofError<string> {
  constructor(
    readonly step: string,
    readonly original: unknown,
  ) {
    const known = original instanceof ChangeproofError ? original : undefined;
    super(known?.code ?? 'STEP_FAILED', messageLine(original), {
      category: known?.category ?? 'internal',
      cause: original,
      details: { step },
    });
  }
}

function messageLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
