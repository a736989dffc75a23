import { Command } from 'commander';
import { ChangeproofError, UsageError } from '../../errors.ts';
import type { VerificationResult } from '../../reconcile/verification.ts';
import { startWorkspaceCdEngine } from '../../reconcile/workspace-engine.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows } from '../output.ts';

export class VerificationMismatch extends ChangeproofError<'LIVE_DIFFERS'> {}

/**
 * `changeproof verify --env prod`: compare every application's live state with its approved
 * desired state and seal each answer as a signed attestation in the ledger.
 */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('verify live state equals the approved desired state and seal it in the ledger')
    .requiredOption('--env <env>', 'the environment to verify')
    .action(async (options: { env: string }, command: Command) => {
      const context = commandContext(command);
      const results = await withWorkspace(context, async (ws) => {
        if (!ws.config.environments.some((env) => env.name === options.env))
          throw new UsageError(`no environment ${options.env} in changeproof.yaml`);
        const engine = await startWorkspaceCdEngine({
          ws,
          logger: context.logger,
          mode: 'observe',
        });
        try {
          return await engine.verify(options.env);
        } finally {
          await engine.close();
        }
      });
      printRows<VerificationResult>(
        results,
        [
          { header: 'app', value: (r) => r.app },
          { header: 'equal', value: (r) => (r.equal ? 'yes' : 'NO') },
          { header: 'desired', value: (r) => r.desiredDigest.slice(0, 19) },
          { header: 'live', value: (r) => r.liveDigest.slice(0, 19) },
          { header: 'commit', value: (r) => r.configCommit.slice(0, 12) },
          { header: 'verified at', value: (r) => r.verifiedAt },
        ],
        context.output,
        results.map(({ envelope: _envelope, ...rest }) => rest),
      );
      const differing = results.filter((result) => !result.equal);
      if (differing.length > 0) {
        throw new VerificationMismatch(
          'LIVE_DIFFERS',
          `live state differs from approved for ${differing.map((r) => r.app).join(', ')} (sealed)`,
        );
      }
    });
}
