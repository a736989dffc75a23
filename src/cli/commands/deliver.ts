import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { scanPolicies } from '../../config/schema.ts';
import { changeManagementFor } from '../../change/index.ts';
import type { Forge } from '../../domain/forge.ts';
import { UsageError } from '../../errors.ts';
import { deliver } from '../../delivery/pipeline.ts';
import { streamProgress } from '../../delivery/progress.ts';
import { registryTargetOf } from '../../delivery/registry-target.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import { commandContext, withWorkspace } from '../context.ts';

/**
 * `changeproof deliver`: the CI plane's one pipeline. Progress goes to stderr (live on a
 * terminal, one line per step otherwise), the test command's output too, and the result is one
 * JSON document on stdout for the calling pipeline to read.
 */
export function deliverCommand(): Command {
  return new Command('deliver')
    .description('test, build, scan, sign, attest and propose an image of a service')
    .requiredOption('--service <name>', 'the service, as named in the config repo (apps/<name>)')
    .requiredOption('--env <env>', 'the environment whose overlay the proposal changes')
    .option('--source <dir>', 'the application checkout', '.')
    .option('--image <ref@digest>', 'an image built elsewhere; test and build are skipped')
    .option(
      '--sarif <file>',
      'SARIF from another scanner, for the scan gate (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('--scan-policy <policy>', "a stricter scan policy than the service's").choices([
        ...scanPolicies,
      ]),
    )
    .option('--junit <file>', 'JUnit XML report the test command writes, relative to --source')
    .option('--allow-dirty', 'deliver uncommitted changes or a detached HEAD (recorded)')
    .option('--config-repo <url>', "clone and push the config repo here instead of the forge's")
    .option('--author <name>', 'who the proposal is opened as', 'pipeline')
    .option('--advisories <dir>', 'OSV advisories for the scan gate (default: the bundled set)')
    .option('--lease-ttl <duration>', "lifetime of the run's broker lease, 1m to 1h", '15m')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const result = await withWorkspace(context, (ws) =>
        deliver(
          {
            service: options.service,
            env: options.env,
            sourceDir: resolve(options.source),
            sarifFiles: options.sarif,
            allowDirty: options.allowDirty === true,
            author: options.author,
            ...(options.image ? { image: options.image } : {}),
            ...(options.junit ? { junitFile: options.junit } : {}),
            ...(options.scanPolicy ? { scanPolicy: options.scanPolicy } : {}),
            ...(options.configRepo ? { configRepoUrl: options.configRepo } : {}),
            ...(options.advisories ? { advisoriesDir: resolve(options.advisories) } : {}),
            leaseTtlSeconds: leaseTtlSeconds(options.leaseTtl),
          },
          {
            config: ws.config,
            ledger: ws.ledger,
            broker: ws.broker,
            forge: forgeOf(ws),
            registry: registryTargetOf(ws),
            progress: streamProgress(process.stderr),
            testOutput: process.stderr,
          },
        ),
      );
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    });
}

/** The workspace's forge: the embedded one, or GitHub when changeproof.yaml selects it. */
function forgeOf(ws: WorkspaceContext): Forge {
  return changeManagementFor(ws).forge;
}

/**
 * `--lease-ttl` in seconds. Short by design: a lease outliving its run is a credential lying
 * around, and one shorter than a minute would expire under an ordinary build.
 */
function leaseTtlSeconds(value: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(value);
  const seconds = match
    ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h']
    : 0;
  if (seconds < 60 || seconds > 3600) {
    throw new UsageError(`--lease-ttl ${value} is not between 1m and 1h; give e.g. 15m or 900s`);
  }
  return seconds;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
