import { Command, InvalidArgumentError } from 'commander';
import { startControlPlane } from '../../server/control-plane.ts';
import { commandContext, type CommandContext } from '../context.ts';
import { watchStopSignals, type StopSignals } from '../stop-signals.ts';

export function upCommand(): Command {
  return new Command('up')
    .description('start the control plane and the embedded services on loopback until stopped')
    .option(
      '--port <port>',
      'control-plane port (overrides changeproof.yaml; 0 picks a free one)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new InvalidArgumentError('expected a port 0-65535');
        return n;
      },
    )
    .action(async (options: { port?: number }, command: Command) => {
      const context = commandContext(command);
      // Listen before anything starts: without a listener a Ctrl-C during start-up kills the
      // process by the signal itself, with the store and the sandboxes half-open.
      const stop = watchStopSignals((signal) =>
        context.logger.warn({ signal }, 'control plane already stopping'),
      );
      context.logger.info({}, 'control plane starting');
      try {
        await runUntilStopped(context, options.port, stop);
      } finally {
        stop.dispose();
      }
    });
}

/**
 * Starts the control plane, prints its endpoints and closes everything on the first stop
 * signal. A signal that arrives while starting lets the start finish, then closes at once.
 */
async function runUntilStopped(
  context: CommandContext,
  port: number | undefined,
  stop: StopSignals,
): Promise<void> {
  const ws = await context.openWorkspace();
  if (stop.received) return ws.close();
  const plane = await startControlPlane(ws, { logger: context.logger, port }).catch(
    async (error: unknown) => {
      await ws.close();
      throw error;
    },
  );
  if (!stop.received) {
    for (const endpoint of plane.endpoints)
      process.stdout.write(`${endpoint.name} ${endpoint.url}\n`);
    context.logger.info({ endpoints: plane.endpoints.length }, 'control plane up');
  }
  const signal = await stop.requested;
  context.logger.info({ signal }, 'control plane stopping');
  await plane.close();
  await ws.close();
}

/** Resolves on the first SIGINT or SIGTERM after the call (for `serve` and `sync --watch`). */
export async function waitForStopSignal(): Promise<void> {
  const stop = watchStopSignals();
  await stop.requested;
  stop.dispose();
}
