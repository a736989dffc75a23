import { durationMs, type EnvironmentConfig } from '../../config/schema.ts';
import type { CdEngine } from '../../reconcile/engine.ts';
import type { VerificationResult } from '../../reconcile/verification.ts';

export interface ArgocdVerificationOptions {
  /** Each is verified every `governance.verifyInterval`, as the built-in engine does. */
  environments: readonly EnvironmentConfig[];
  /**
   * Starts a CD engine in `observe` mode: it takes over each application's last deployment from
   * the ledger (the syncs Argo CD made, as observation recorded them) and never applies.
   */
  startObserver(): Promise<CdEngine>;
  onError?(error: unknown, env: string): void;
  /** How often due environments are looked for (default 1 s). */
  tickMs?: number;
}

export interface ArgocdVerification {
  /** Verifies and seals now (one environment, or all), waiting for any run in progress first. */
  verifyNow(env?: string): Promise<VerificationResult[]>;
  stop(): Promise<void>;
}

/**
 * changeproof's own verification while Argo CD syncs: on each environment's verifyInterval, an
 * observe-only engine renders the commit Argo CD last deployed, reads the live objects, compares
 * them with it and seals a `verification.sealed` attestation, equal or not. A fresh engine per
 * run takes over the newest recorded deployment; nothing is ever applied, Argo CD does that.
 */
export function scheduleArgocdVerification(options: ArgocdVerificationOptions): ArgocdVerification {
  const due = new Map(options.environments.map((env) => [env.name, nextRun(env)]));
  // One run at a time: two observe engines over one cache directory would check out at once.
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const verifyNow = (env?: string): Promise<VerificationResult[]> => {
    const run = running.then(() => verifyOnce(options, env));
    running = run.catch(() => undefined);
    return run;
  };

  const timer = setInterval(() => {
    if (stopped) return;
    for (const env of options.environments) {
      if ((due.get(env.name) ?? 0) > Date.now()) continue;
      due.set(env.name, nextRun(env));
      verifyNow(env.name).catch((error: unknown) => options.onError?.(error, env.name));
    }
  }, options.tickMs ?? 1000);
  timer.unref();

  return {
    verifyNow,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

async function verifyOnce(
  options: ArgocdVerificationOptions,
  env?: string,
): Promise<VerificationResult[]> {
  const engine = await options.startObserver();
  try {
    return await engine.verify(env);
  } finally {
    await engine.close();
  }
}

function nextRun(env: EnvironmentConfig): number {
  return Date.now() + durationMs(env.governance.verifyInterval);
}
