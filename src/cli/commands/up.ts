import { Command, InvalidArgumentError } from 'commander';
import { startControlPlane } from '../../server/control-plane.ts';
import { commandContext } from '../context.ts';

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
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const ws = await context.openWorkspace();
      const plane = await startControlPlane(ws, {
        logger: context.logger,
        port: options.port,
      }).catch(async (error) => {
        await ws.close();
        throw error;
      });
      for (const endpoint of plane.endpoints)
        process.stdout.write(`${endpoint.name} ${endpoint.url}\n`);
      context.logger.info({ endpoints: plane.endpoints.length }, 'control plane up');
      await waitForStopSignal();
      context.logger.info({}, 'control plane stopping');
      await plane.close();
      await ws.close();
    });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
