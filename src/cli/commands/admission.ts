import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { kyvernoPolicy, policyControllerPolicy } from '../../reconcile/admission/policies.ts';
import { startAdmissionWebhook } from '../../reconcile/admission/webhook.ts';
import { defaultRequiredPredicates, ImageVerifier } from '../../reconcile/image-verification.ts';
import { commandContext, withWorkspace } from '../context.ts';

/** `changeproof admission`: the image-signature webhook and equivalent cluster policies. */
export function admissionCommand(): Command {
  const admission = new Command('admission').description(
    'refuse unsigned images at admission: webhook server and policy generators',
  );

  admission
    .command('policy')
    .description('print a Kyverno ClusterPolicy or policy-controller ClusterImagePolicy')
    .addOption(
      new Option('--format <format>', 'policy engine')
        .choices(['kyverno', 'policy-controller'])
        .makeOptionMandatory(),
    )
    .option('--image <glob...>', 'image globs the policy covers', ['*'])
    .action(async (options: { format: string; image: string[] }, command: Command) => {
      const context = commandContext(command);
      const publicKey = await withWorkspace(context, (ws) => ws.broker.publicKey('pipeline'));
      const input = { images: options.image, publicKeys: [publicKey] };
      const policy =
        options.format === 'kyverno' ? kyvernoPolicy(input) : policyControllerPolicy(input);
      process.stdout.write(stringify(policy, { lineWidth: 0 }));
    });

  admission
    .command('serve')
    .description('serve the ValidatingAdmissionWebhook until interrupted')
    .option('--port <port>', 'port (0 picks one)', '0')
    .action(async (options: { port: string }, command: Command) => {
      const context = commandContext(command);
      const publicKey = await withWorkspace(context, (ws) => ws.broker.publicKey('pipeline'));
      const verifier = new ImageVerifier({
        publicKeys: [publicKey],
        requiredPredicates: defaultRequiredPredicates,
      });
      const webhook = await startAdmissionWebhook({ verifier, port: Number(options.port) });
      context.logger.info({ url: webhook.url }, 'admission webhook serving');
      await new Promise<void>((resolve) =>
        process.once('SIGINT', resolve).once('SIGTERM', resolve),
      );
      await webhook.close();
    });
  return admission;
}
