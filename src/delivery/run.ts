import type { JsonValue } from '../ledger/canonical.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { recordEvidence, type EvidencePayloads } from '../domain/evidence.ts';
import { ChangeproofError } from '../errors.ts';
import { DeliveryStepError } from './errors.ts';
import type { DeliveryProgress } from './progress.ts';

export type DeliveryStepName = EvidencePayloads['delivery.step']['step'];

type JsonRecord = { [key: string]: JsonValue };

/** What a step returns: its outputs for the ledger and a short line for the progress display. */
export interface StepOutcome<T> {
  value: T;
  outputs: JsonRecord;
  detail?: string;
}

/**
 * One delivery run: its id, and the evidence each step leaves. Every step, passed, failed or
 * skipped, becomes a `delivery.step` entry with its inputs, outputs, digests and timing, written
 * at the moment the step ends.
 */
export class DeliveryRun {
  readonly subject: string;
  readonly actor: string;

  constructor(
    readonly id: string,
    private readonly ledger: Ledger,
    private readonly progress: DeliveryProgress,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.subject = `run:${id}`;
    this.actor = `pipeline:${id}`;
  }

  /** Runs a step; a failure is recorded and rethrown as a {@link DeliveryStepError}. */
  async step<T>(
    name: DeliveryStepName,
    inputs: JsonRecord,
    work: () => Promise<StepOutcome<T>>,
  ): Promise<T> {
    const started = performance.now();
    this.progress.started(name);
    let outcome: StepOutcome<T>;
    try {
      outcome = await work();
    } catch (error) {
      const failure =
        error instanceof DeliveryStepError ? error : new DeliveryStepError(name, error);
      const durationMs = Math.round(performance.now() - started);
      await this.record(name, 'failed', durationMs, inputs, outputsOf(error), failure.message);
      this.progress.finished(name, 'failed', durationMs, failure.message);
      throw failure;
    }
    const durationMs = Math.round(performance.now() - started);
    await this.record(name, 'passed', durationMs, inputs, outcome.outputs);
    this.progress.finished(name, 'passed', durationMs, outcome.detail);
    return outcome.value;
  }

  /** Records a step that did not run, and why. */
  async skip(name: DeliveryStepName, reason: string, inputs: JsonRecord = {}): Promise<void> {
    this.progress.started(name);
    await this.record(name, 'skipped', 0, inputs, {}, reason);
    this.progress.finished(name, 'skipped', 0, reason);
  }

  /** Appends a run-level entry (`delivery.started`, `.completed`, `.failed`). */
  async evidence<K extends 'delivery.started' | 'delivery.completed' | 'delivery.failed'>(
    kind: K,
    payload: EvidencePayloads[K],
  ): Promise<void> {
    await recordEvidence(this.ledger, kind, this.subject, this.actor, payload);
  }

  now(): Date {
    return this.clock();
  }

  private async record(
    step: DeliveryStepName,
    status: 'passed' | 'failed' | 'skipped',
    durationMs: number,
    inputs: JsonRecord,
    outputs: JsonRecord,
    reason?: string,
  ): Promise<void> {
    await recordEvidence(this.ledger, 'delivery.step', this.subject, this.actor, {
      run: this.id,
      step,
      status,
      durationMs,
      inputs,
      outputs,
      ...(reason ? { reason } : {}),
    });
  }
}

/** What a failed step had found before it refused (e.g. the scan verdict), if it said. */
function outputsOf(error: unknown): JsonRecord {
  const outputs = error instanceof ChangeproofError ? error.details.outputs : undefined;
  return typeof outputs === 'object' && outputs !== null ? (outputs as JsonRecord) : {};
}
