import { Command, InvalidArgumentError } from 'commander';
import { startControlPlane } from '../../server/control-plane.ts';
import { commandContext } from '../context.ts';
import { waitForStopSignal } from './up.ts';

/**
 * `changeproof serve`: the API and the dashboard only, with none of local mode's embedded
 * services and no CD engine (in Kubernetes the reconciler is its own Deployment).
 */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the API and the dashboard only, until stopped (the Helm chart runs this)')
    .option('--host <host>', 'address to listen on (overrides changeproof.yaml)')
    .option('--port <port>', 'port to listen on (overrides changeproof.yaml)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new InvalidArgumentError('expected a port 0-65535');
      return n;
    })
    .action(async (options: { host?: string; port?: number }, command: Command) => {
      const context = commandContext(command);
      const ws = await context.openWorkspace();
      const plane = await startControlPlane(ws, {
        logger: context.logger,
        services: 'api',
        ...(options.host ? { host: options.host } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
      }).catch(async (error) => {
        await ws.close();
        throw error;
      });
      for (const endpoint of plane.endpoints)
        process.stdout.write(`${endpoint.name} ${endpoint.url}\n`);
      await waitForStopSignal();
      await plane.close();
      await ws.close();
    });
}
