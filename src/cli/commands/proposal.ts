import { Command, Option } from 'commander';
import type { Proposal } from '../../domain/forge.ts';
import { printRows, printValue } from '../output.ts';
import { tokenOption, withChanges } from './change-context.ts';

/** `changeproof proposal`: list, show, open, review, approve, reject and merge proposals. */
export function proposalCommand(): Command {
  const proposal = new Command('proposal').description(
    'proposals against the config repo: review and merge under branch protection',
  );

  tokenOption(proposal.command('list').description('list proposals'))
    .addOption(
      new Option('--state <state>', 'only proposals in this state').choices([
        'open',
        'merged',
        'closed',
      ]),
    )
    .action(async (options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const rows = await changes.service.listProposals(actor, options.state);
        printRows<Proposal>(
          rows,
          [
            { header: 'id', value: (p) => p.id },
            { header: 'state', value: (p) => p.state },
            { header: 'env', value: (p) => p.env },
            { header: 'service', value: (p) => p.service },
            { header: 'routine', value: (p) => (p.routine ? 'yes' : 'no') },
            { header: 'author', value: (p) => p.author },
            { header: 'head', value: (p) => p.headCommit.slice(0, 12) },
            { header: 'title', value: (p) => p.title, max: 48 },
          ],
          context.output,
        );
      });
    });

  tokenOption(
    proposal.command('show').description('show a proposal with its reviews, statuses and change'),
  )
    .argument('<id>', 'proposal id')
    .action(async (id: string, _options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const shown = await changes.service.showProposal(actor, id);
        printValue(shown, context.output === 'table' ? 'yaml' : context.output);
      });
    });

  tokenOption(
    proposal.command('open').description('open a proposal for a branch pushed to the config repo'),
  )
    .requiredOption('--branch <branch>', 'the pushed branch')
    .requiredOption('--title <title>', 'one line saying what changes')
    .option('--description <text>', 'why', '')
    .action(async (options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const opened = await changes.service.openProposal(actor, {
          title: options.title,
          description: options.description,
          branch: options.branch,
        });
        printValue(opened, context.output === 'table' ? 'yaml' : context.output);
      });
    });

  tokenOption(
    proposal.command('review').description('approve, request changes on, or comment on the head'),
  )
    .argument('<id>', 'proposal id')
    .addOption(
      new Option('--state <state>', 'the review')
        .choices(['approved', 'changes_requested', 'commented'])
        .makeOptionMandatory(),
    )
    .option('--commit <sha>', 'the commit you reviewed (must be the head)')
    .option('--body <text>', 'review comment')
    .action(async (id: string, options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const result = await changes.service.review(actor, id, options);
        reportReview(result, context.output);
      });
    });

  for (const [name, state] of [
    ['approve', 'approved'],
    ['reject', 'changes_requested'],
  ] as const) {
    tokenOption(proposal.command(name).description(`${name} the proposal's head commit`))
      .argument('<id>', 'proposal id')
      .option('--commit <sha>', 'the commit you reviewed (must be the head)')
      .option('--body <text>', 'comment')
      .action(async (id: string, options, command: Command) => {
        await withChanges(command, async (changes, actor, context) => {
          const result = await changes.service.review(actor, id, { state, ...options });
          reportReview(result, context.output);
        });
      });
  }

  tokenOption(proposal.command('merge').description('merge under branch protection (fast-forward)'))
    .argument('<id>', 'proposal id')
    .action(async (id: string, _options, command: Command) => {
      await withChanges(command, async (changes, actor, context) => {
        const merged = await changes.service.merge(actor, id);
        if (context.output !== 'table') return printValue(merged, context.output);
        process.stdout.write(`merged proposal ${id}: main is now ${merged.mergeCommit}\n`);
      });
    });

  return proposal;
}

function reportReview(
  result: {
    review: { state: string; commit: string };
    gate: { state: string; rule: string; description: string };
  },
  output: 'table' | 'json' | 'yaml',
): void {
  if (output !== 'table') return printValue(result, output);
  process.stdout.write(
    `${result.review.state} ${result.review.commit.slice(0, 12)}; gate ${result.gate.state} (${result.gate.rule}): ${result.gate.description}\n`,
  );
}
