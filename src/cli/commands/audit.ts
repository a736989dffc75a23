import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { requirePopulation, type AuditScope } from '../../audit/audit.ts';
import { AuditError } from '../../audit/errors.ts';
import { auditInputsOf, runControlAudit, runDeploymentAudit } from '../../audit/inputs.ts';
import { exportPack, POPULATION_SOURCE } from '../../audit/pack/export.ts';
import { verifyPack } from '../../audit/pack/verify.ts';
import {
  POPULATION_COLUMNS,
  populationRow,
  type PopulationRow,
} from '../../audit/population-table.ts';
import { parseAuditRange } from '../../audit/range.ts';
import { buildLeadSheet, SAMPLE_ATTRIBUTES, type LeadSheetItem } from '../../audit/sample.ts';
import type { AuditedDeployment } from '../../audit/types.ts';
import { messageOf, UsageError } from '../../errors.ts';
import type { ControlOutcome } from '../../policy/catalogue.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { listFormat, printRows, printValue, type ListFormat } from '../output.ts';

/** `changeproof audit`: the auditor's answer, controls, evidence packs and samples. */
export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'answer who approved each production deployment, what was deployed, and whether live matches approved',
  );
  audit.addCommand(deploymentsCommand());
  audit.addCommand(controlsCommand());
  audit.addCommand(exportCommand());
  audit.addCommand(verifyCommand());
  audit.addCommand(sampleCommand());
  return audit;
}

/** --env, --from, --to and --service, shared by the audit and metrics commands. */
export function withScopeOptions(command: Command): Command {
  return command
    .option(
      '--env <name>',
      'environment (repeatable; default: every production environment)',
      collect,
      [],
    )
    .option('--from <date>', 'start of the period (YYYY-MM-DD, inclusive, UTC)')
    .option('--to <date>', 'end of the period (YYYY-MM-DD, inclusive, UTC)')
    .option('--service <name>', 'only this service');
}

export function scopeOf(options: {
  env: string[];
  from?: string;
  to?: string;
  service?: string;
}): AuditScope {
  return {
    range: parseAuditRange(options.from, options.to),
    envs: options.env,
    service: options.service,
  };
}

function deploymentsCommand(): Command {
  return withScopeOptions(new Command('deployments'))
    .description('list every deployment in the period with its approval, artifact and proof')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const output = formatOf(command);
      const scope = scopeOf(options);
      const deployments = await withWorkspace(context, async (ws) => {
        const { index, deployments } = await runDeploymentAudit(auditInputsOf(ws), scope);
        requirePopulation(deployments, index, scope);
        return deployments;
      });
      if (output === 'csv') return printPopulation(deployments);
      printRows<AuditedDeployment>(
        deployments,
        [
          { header: 'deployment', value: (d) => d.id, max: 40 },
          { header: 'deployed at', value: (d) => d.deployedAt.slice(0, 19) },
          { header: 'change', value: (d) => d.approval.change?.id ?? 'none' },
          {
            header: 'approvers',
            value: (d) =>
              d.approval.approvals.map((a) => `${a.identity}(${a.roles.join('/')})`).join(',') ||
              'none',
            max: 36,
          },
          { header: 'sod', value: (d) => d.approval.separationOfDuties.verdict },
          {
            header: 'image',
            value: (d) =>
              d.artifact.images.map((i) => `${i.name}@${i.digest.slice(7, 19)}`).join(',') ||
              'none',
            max: 32,
          },
          {
            header: 'scan',
            value: (d) =>
              [...new Set(d.artifact.images.map((i) => i.scanVerdict ?? 'none'))].join(','),
          },
          {
            header: 'verified',
            value: (d) => d.proof.lastVerifiedEqualAt?.slice(0, 19) ?? 'never',
          },
          { header: 'drifts', value: (d) => d.proof.drifts.length },
          { header: 'live=approved', value: (d) => d.proof.verdict },
        ],
        output,
      );
    });
}

function printPopulation(deployments: AuditedDeployment[]): void {
  printRows<PopulationRow>(
    deployments.map(populationRow),
    POPULATION_COLUMNS.map((column) => ({
      header: column,
      value: (row: PopulationRow) => row[column],
    })),
    'csv',
  );
}

function controlsCommand(): Command {
  return withScopeOptions(new Command('controls'))
    .description('evaluate every control over the period and list each failure with its evidence')
    .option('--all', 'list passing outcomes too')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const output = formatOf(command);
      const scope = scopeOf(options);
      const report = await withWorkspace(context, async (ws) => {
        const { index, deployments, report } = await runControlAudit(auditInputsOf(ws), scope);
        requirePopulation(deployments, index, scope);
        return report;
      });
      const listed = options.all ? report.outcomes : report.failures;
      if (output === 'json' || output === 'yaml') {
        return printValue(
          {
            range: report.range,
            controls: report.controls,
            [options.all ? 'outcomes' : 'failures']: listed,
          },
          output,
        );
      }
      if (output === 'table') {
        printRows(
          report.controls,
          [
            { header: 'control', value: (c) => c.id },
            { header: 'title', value: (c) => c.title, max: 34 },
            { header: 'soc 2', value: (c) => c.soc2.join(',') },
            { header: 'hitrust', value: (c) => c.hitrust.join(',') },
            { header: 'evaluated', value: (c) => c.evaluated },
            { header: 'failed', value: (c) => c.failed },
          ],
          'table',
        );
        process.stdout.write(`\n${report.failures.length} failure(s) in ${report.range}\n`);
      }
      printRows<ControlOutcome>(
        listed,
        [
          { header: 'control', value: (o) => o.control },
          { header: 'status', value: (o) => o.status },
          { header: 'subject', value: (o) => o.subject, max: 44 },
          { header: 'reason', value: (o) => o.reason, max: output === 'csv' ? undefined : 90 },
          { header: 'evidence', value: (o) => o.evidence.join(' ') },
        ],
        output,
      );
    });
}

function exportCommand(): Command {
  return withScopeOptions(new Command('export'))
    .description('write an evidence pack (zip) that verifies offline')
    .option('--no-pdf', 'skip printing the report to PDF')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const file = command.optsWithGlobals<{ output?: string }>().output;
      if (!file || !file.endsWith('.zip'))
        throw new UsageError('give the pack file with -o <name>.zip');
      const scope = scopeOf(options);
      const result = await withWorkspace(context, (ws) =>
        withControlPlaneSigner(ws, (signer) =>
          exportPack(auditInputsOf(ws), scope, { ledger: ws.ledger, signer, pdf: options.pdf }),
        ),
      );
      writeFileSync(file, result.zip);
      const sealed = result.checkpoint.sealedNow ? ' (sealed now)' : '';
      process.stdout.write(
        `wrote ${file}: ${result.deployments} deployment(s), ${result.entries} ledger entries proven against checkpoint ${result.checkpoint.treeSize}${sealed}, ${result.failures} control failure(s)\n`,
      );
      for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    });
}

async function withControlPlaneSigner<T>(
  ws: WorkspaceContext,
  work: (signer: Awaited<ReturnType<WorkspaceContext['broker']['signer']>>) => Promise<T>,
): Promise<T> {
  const lease = await ws.broker.openLease({
    holder: 'system:audit-export',
    scopes: ['sign:control-plane'],
    ttlSeconds: 300,
  });
  try {
    return await work(await ws.broker.signer(lease.id, 'control-plane'));
  } finally {
    await ws.broker.revokeLease(lease.id);
  }
}

export class PackRejected extends AuditError {}

function verifyCommand(): Command {
  return new Command('verify')
    .description('verify an evidence pack offline; fails on any altered byte')
    .argument('<pack>', 'the pack (.zip)')
    .option('--key <pem>', "the organisation's published control-plane public key to compare with")
    .action(async (pack: string, options: { key?: string }, command: Command) => {
      const context = commandContext(command);
      const read = (path: string, what: string) => {
        try {
          return readFileSync(path);
        } catch (error) {
          throw new UsageError(`cannot read ${what} ${path}: ${messageOf(error)}`);
        }
      };
      const result = await verifyPack(read(pack, 'pack'), {
        expectedPublicKey: options.key && read(options.key, 'key').toString('utf8'),
      });
      if (context.output === 'json' || context.output === 'yaml')
        printValue(result, context.output);
      else if (result.ok) {
        process.stdout.write(
          `pack intact: ${result.files} files, ${result.entries} entries proven against checkpoint ${result.checkpoint?.treeSize}, ${result.attestations} attestation(s) verified\n`,
        );
      }
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (!result.ok) {
        const first = result.problems[0]!;
        throw new PackRejected(
          'LEDGER_BROKEN',
          `pack does not verify: ${first.code}: ${first.message} (${result.problems.length} problem(s))`,
        );
      }
    });
}

function sampleCommand(): Command {
  return withScopeOptions(new Command('sample'))
    .description('draw a reproducible random sample and write the lead sheet')
    .requiredOption('--size <n>', 'how many deployments to draw', wholeNumber)
    .requiredOption('--seed <seed>', 'the seed; the same seed redraws the same sample')
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const output = formatOf(command);
      const scope = scopeOf(options);
      const sheet = await withWorkspace(context, async (ws) => {
        const { index, deployments, report } = await runControlAudit(auditInputsOf(ws), scope);
        requirePopulation(deployments, index, scope);
        return buildLeadSheet(deployments, report.outcomes, {
          size: options.size,
          seed: options.seed,
          scope: `${scope.envs.join(', ') || 'production environments'}, ${scope.range.label}`,
          populationSource: POPULATION_SOURCE,
        });
      });
      if (output === 'json' || output === 'yaml') return printValue(sheet, output);
      if (output === 'table') {
        const lines = [
          sheet.title,
          `population source: ${sheet.populationSource}`,
          `scope: ${sheet.scope}`,
          `population size: ${sheet.populationSize}; sample size: ${sheet.sampleSize}; seed: ${sheet.seed}`,
          `method: ${sheet.method}`,
          ...sheet.attributes.map((a) => `${a.id} (${a.control}): ${a.description}`),
          `conclusion: ${sheet.conclusion}`,
          '',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      printRows<LeadSheetItem>(
        sheet.items,
        [
          { header: 'item', value: (i) => i.item },
          { header: 'pop #', value: (i) => i.populationNumber },
          { header: 'deployment', value: (i) => i.deployment, max: 36 },
          { header: 'deployed at', value: (i) => i.deployedAt.slice(0, 19) },
          { header: 'change', value: (i) => i.change },
          ...SAMPLE_ATTRIBUTES.map((a) => ({
            header: a.id,
            value: (i: LeadSheetItem) => i.results[a.id],
          })),
          { header: 'exceptions', value: (i) => i.exceptions },
          {
            header: 'notes',
            value: (i) => i.notes.join(' | '),
            max: output === 'csv' ? undefined : 60,
          },
        ],
        output,
      );
    });
}

/** The -o of a list command: table, json, yaml or csv. */
export function formatOf(command: Command): ListFormat {
  return listFormat(command.optsWithGlobals<{ output?: string }>().output);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1)
    throw new InvalidArgumentError('expected a whole number from 1');
  return number;
}
