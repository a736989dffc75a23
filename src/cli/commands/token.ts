import { Command, InvalidArgumentError } from 'commander';
import { changeManagementFor } from '../../change/index.ts';
import { ChangeError } from '../../change/errors.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printValue } from '../output.ts';

/**
 * `changeproof token issue <user>`: prints a user's token once. Issuing is a workspace operator's
 * act (whoever can read the workspace's keys and database); when the operator also passes a
 * token, it must be a platform-admin's.
 */
export function tokenCommand(): Command {
  const token = new Command('token').description('per-user tokens for local mode');
  token
    .command('issue')
    .description('issue a token for a user in changeproof.yaml and print it once')
    .argument('<user>', 'identity name')
    .option('--ttl <hours>', 'hours until it expires (default 720)', hours)
    .option('--token <token>', 'your own token (must be platform-admin when given)')
    .action(async (user: string, options, command: Command) => {
      const context = commandContext(command);
      const issued = await withWorkspace(context, async (ws) => {
        const { identity } = changeManagementFor(ws);
        const own = options.token ?? process.env.CHANGEPROOF_TOKEN;
        const issuer = own ? await identity.authenticate(own) : undefined;
        if (issuer && !issuer.roles.includes('platform-admin')) {
          throw new ChangeError(
            'ROLE_REQUIRED',
            `${issuer.name} cannot issue tokens: needs role platform-admin`,
          );
        }
        return identity.issue(user, {
          ...(options.ttl ? { ttlSeconds: options.ttl } : {}),
          issuedBy: issuer?.name ?? 'workspace-operator',
        });
      });
      if (context.output !== 'table') return printValue(issued, context.output);
      process.stdout.write(`${issued.token}\n`);
      process.stderr.write(
        `token for ${issued.user} expires ${issued.expiresAt}; it is shown only once\n`,
      );
    });
  return token;
}

function hours(value: string): number {
  const number = Number(value);
  if (!(number > 0) || number > 24 * 365)
    throw new InvalidArgumentError('expected hours from 1 to 8760');
  return Math.round(number * 3600);
}
