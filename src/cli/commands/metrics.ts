import { Command } from 'commander';
import { computeDora, type DoraGroup, type DoraWeek } from '../../audit/dora.ts';
import { auditInputsOf, runDeploymentAudit } from '../../audit/inputs.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows, printValue } from '../output.ts';
import { formatOf, scopeOf, withScopeOptions } from './audit.ts';

/** `changeproof metrics`: delivery performance computed from the ledger. */
export function metricsCommand(): Command {
  const metrics = new Command('metrics').description(
    'delivery metrics computed from the evidence ledger',
  );
  metrics.addCommand(
    withScopeOptions(new Command('dora'))
      .description('the four DORA keys per service and environment, with a weekly trend')
      .action(async (options, command: Command) => {
        const context = commandContext(command);
        const output = formatOf(command);
        const scope = scopeOf(options);
        const report = await withWorkspace(context, async (ws) => {
          const { index, deployments } = await runDeploymentAudit(auditInputsOf(ws), scope);
          return computeDora(index, deployments, scope.range);
        });
        if (output === 'json' || output === 'yaml') return printValue(report, output);
        const all: DoraGroup = { env: 'all', service: 'all', ...report.overall };
        printRows<DoraGroup>(
          [...report.groups, all],
          [
            { header: 'env', value: (g) => g.env },
            { header: 'service', value: (g) => g.service },
            { header: 'deployments', value: (g) => g.deployments },
            { header: 'frequency', value: (g) => g.deploymentFrequency },
            { header: 'lead time h (median)', value: (g) => fixed(g.leadTimeMedianHours) },
            { header: 'change failure rate', value: (g) => percent(g.changeFailureRate) },
            {
              header: 'time to restore h (median)',
              value: (g) => fixed(g.timeToRestoreMedianHours),
            },
          ],
          output,
        );
        if (output === 'csv') return;
        process.stdout.write('\nweekly trend\n');
        printRows<DoraWeek>(
          report.weekly,
          [
            { header: 'week of', value: (w) => w.week },
            { header: 'deployments', value: (w) => w.deployments },
            { header: 'lead time h', value: (w) => fixed(w.leadTimeMedianHours) },
            { header: 'failure rate', value: (w) => percent(w.changeFailureRate) },
            { header: 'restore h', value: (w) => fixed(w.timeToRestoreMedianHours) },
          ],
          output,
        );
      }),
  );
  return metrics;
}

function fixed(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

function percent(value: number | undefined): string {
  return value === undefined ? '-' : `${(value * 100).toFixed(1)}%`;
}
