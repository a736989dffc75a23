import type { Logger } from '../log.ts';
import type { ControlPlane } from '../server/control-plane.ts';
import type { WorkspaceContext } from '../workspace/context.ts';

/** What one demo step is given: the open workspace and the running control plane. */
export interface DemoContext {
  ws: WorkspaceContext;
  plane: ControlPlane;
  logger: Logger;
  say(line: string): void;
  /** What earlier steps left for later ones (proposal ids, deployments). */
  memory: Map<string, string>;
}

export interface DemoStep {
  title: string;
  run(context: DemoContext): Promise<void>;
}

/** The control plane's base URL. */
export function controlPlaneUrl(plane: ControlPlane): string {
  return plane.endpoints.find((e) => e.name === 'control-plane')!.url;
}

/** Polls `check` every 100 ms until it returns a value, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`demo: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
