import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { messageOf, UsageError } from '../../errors.ts';
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
    .option('--host <host>', 'address to listen on (a cluster needs one it can reach)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks one)', portNumber, 0)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .action(async (options: ServeOptions, command: Command) => {
      const context = commandContext(command);
      const tls = servingTls(options);
      // The workspace stays open while serving: every denial is recorded in its ledger.
      await withWorkspace(context, async (ws) => {
        const verifier = new ImageVerifier({
          publicKeys: [await ws.broker.publicKey('pipeline')],
          requiredPredicates: defaultRequiredPredicates,
        });
        const webhook = await startAdmissionWebhook({
          verifier,
          ledger: ws.ledger,
          host: options.host,
          port: options.port,
          tls,
        });
        // The URL on stdout, as `up` prints its services: what clientConfig and probes use.
        process.stdout.write(`admission-webhook ${webhook.url}\n`);
        context.logger.info({ url: webhook.url }, 'admission webhook serving');
        await new Promise<void>((resolve) =>
          process.once('SIGINT', resolve).once('SIGTERM', resolve),
        );
        await webhook.close();
      });
    });
  return admission;
}

interface ServeOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return port;
}

/**
 * The certificate and key to serve with, checked before anything listens: both files readable,
 * PEM, and the key the certificate's. A Kubernetes API server calls webhooks over HTTPS only, so
 * plain HTTP is allowed on loopback alone (the sandbox, tests), never on an address a cluster
 * would reach.
 */
function servingTls(options: ServeOptions): ServingTls | undefined {
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey))
    throw new UsageError('--tls-cert and --tls-key go together; pass both or neither');
  if (!options.tlsCert || !options.tlsKey) {
    if (!isLoopback(options.host))
      throw new UsageError(
        `serving on ${options.host} needs --tls-cert and --tls-key: clusters call webhooks over HTTPS only`,
      );
    return undefined;
  }
  const certificatePem = readPem(options.tlsCert, '--tls-cert');
  const keyPem = readPem(options.tlsKey, '--tls-key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw new UsageError(`--tls-cert ${options.tlsCert} is not a PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new UsageError(`--tls-key ${options.tlsKey} is not a PEM private key`);
  }
  if (!certificate.checkPrivateKey(key))
    throw new UsageError(
      `--tls-key ${options.tlsKey} is not the key of --tls-cert ${options.tlsCert}`,
    );
  return { certificatePem, keyPem };
}

type ServingTls = { certificatePem: string; keyPem: string };

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${path}: ${messageOf(error)}`);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
