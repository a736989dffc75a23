import { Command, InvalidArgumentError, Option } from 'commander';
import type { ChangeRecord } from '../../domain/change-system.ts';
import { printRows, printValue } from '../output.ts';
import { tokenOption, withChanges } from './change-context.ts';
import { changeReconcileCommand } from './change-reconcile.ts';

/** `changeproof change`: change records, approvals, emergencies and their retroactive reviews. */
export function changeCommand(): Command {
  const change = new Command('change').description('change records: approve, emergency, review');

  tokenOption(change.command('list').description('list change records')).action(
    async (_options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        printRows<ChangeRecord>(
          await changes.service.listChanges(actor),
          [
            { header: 'number', value: (c) => c.number },
            { header: 'type', value: (c) => c.type },
            { header: 'state', value: (c) => `${c.state} (${c.stateCode})` },
            { header: 'env', value: (c) => c.env },
            { header: 'service', value: (c) => c.service },
            { header: 'proposal', value: (c) => c.proposal },
            {
              header: 'approvals',
              value: (c) => c.approvals.map((a) => `${a.approver}/${a.role}`).join(','),
            },
            { header: 'close', value: (c) => c.closeCode },
          ],
          context.output,
        );
      });
    },
  );

  tokenOption(change.command('show').description('show a change record'))
    .argument('<number>', 'change number, e.g. CHG0000001')
    .action(async (number: string, _options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        printValue(
          await changes.service.showChange(actor, number),
          context.output === 'table' ? 'yaml' : context.output,
        );
      });
    });

  for (const [name, state] of [
    ['approve', 'approved'],
    ['reject', 'changes_requested'],
  ] as const) {
    tokenOption(
      change.command(name).description(`${name} a change: a review of its proposal's head`),
    )
      .argument('<number>', 'change number')
      .option('--commit <sha>', 'the commit you reviewed (must be the head)')
      .option('--body <text>', 'comment')
      .action(async (number: string, options, command: Command) => {
        await withChanges(command, async (changes, actor, context) => {
          const record = await changes.service.showChange(actor, number);
          const result = await changes.service.review(actor, record.proposal, {
            state,
            ...options,
          });
          if (context.output !== 'table') return printValue(result, context.output);
          process.stdout.write(
            `${number}: ${result.review.state}; gate ${result.gate.state} (${result.gate.rule})\n`,
          );
        });
      });
  }

  tokenOption(
    change
      .command('emergency')
      .description('declare an emergency and merge with your on-call approval'),
  )
    .requiredOption('--proposal <id>', 'the proposal to merge now')
    .requiredOption('--reason <text>', 'why this cannot wait')
    .option(
      '--break-glass',
      'merge even if the change system is unreachable, or on your own change when no one else is on call; recorded, and an audit finding',
    )
    .action(async (options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const result = await changes.declareEmergency(actor, {
          proposal: options.proposal,
          reason: options.reason,
          breakGlass: options.breakGlass === true,
        });
        if (context.output !== 'table') return printValue(result, context.output);
        process.stdout.write(
          `emergency merged proposal ${result.proposal.id}${result.change ? ` as ${result.change.number}` : ' (break-glass: change record owed)'}; retroactive review due by ${result.reviewDueBy}\n`,
        );
      });
    });

  tokenOption(
    change.command('retro-review').description('record the retroactive review of an emergency'),
  )
    .argument('<number>', 'change number')
    .addOption(
      new Option('--outcome <outcome>', 'your verdict')
        .choices(['accepted', 'rejected'])
        .makeOptionMandatory(),
    )
    .option('--notes <text>', 'what you found')
    .action(async (number: string, options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const reviewed = await changes.recordRetroReview(actor, number, options);
        if (context.output !== 'table') return printValue(reviewed, context.output);
        process.stdout.write(`${number}: retroactive review ${options.outcome} by ${actor.name}\n`);
      });
    });

  tokenOption(
    change
      .command('window')
      .description('plan the window a normal change is deployed in (the CD plane syncs inside it)'),
  )
    .argument('<number>', 'change number')
    .requiredOption('--start <time>', 'window start, ISO 8601', isoTime)
    .requiredOption('--end <time>', 'window end, ISO 8601', isoTime)
    .action(async (number: string, options: { start: Date; end: Date }, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const window = { start: options.start.toISOString(), end: options.end.toISOString() };
        await changes.service.schedule(actor, number, window);
        // Read back after the gate ran on the new window, so the state shown is the current one.
        const scheduled = await changes.service.showChange(actor, number);
        if (context.output !== 'table') return printValue(scheduled, context.output);
        process.stdout.write(
          `${number}: planned ${scheduled.plannedStart} to ${scheduled.plannedEnd}; ${scheduled.state}\n`,
        );
      });
    });

  tokenOption(
    change.command('overdue').description('emergency changes whose retroactive review is overdue'),
  )
    .option('--at <time>', 'evaluate at this ISO 8601 time (default: now)', isoTime)
    .action(async (options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        await changes.service.listChanges(actor);
        const findings = await changes.overdueRetroReviews(options.at ?? new Date());
        printRows(
          findings,
          [
            { header: 'control', value: (f) => f.control },
            { header: 'change', value: (f) => f.change ?? '(owed)' },
            { header: 'proposal', value: (f) => f.proposal },
            { header: 'declared by', value: (f) => f.declaredBy },
            { header: 'due by', value: (f) => f.reviewDueBy },
            { header: 'overdue h', value: (f) => Math.floor(f.overdueByMs / 3_600_000) },
          ],
          context.output,
        );
      });
    });

  change.addCommand(changeReconcileCommand());
  return change;
}

function isoTime(value: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new InvalidArgumentError('expected an ISO 8601 time');
  return time;
}
