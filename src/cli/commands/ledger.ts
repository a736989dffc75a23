import { Command, InvalidArgumentError } from 'commander';
import { ChangeproofError, UsageError } from '../../errors.ts';
import type { LedgerEntry } from '../../ledger/entry.ts';
import { verifyLedger } from '../../ledger/verify.ts';
import { sealWorkspaceLedger } from '../../workspace/checkpoint.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows, printValue } from '../output.ts';

export class LedgerCheckFailed extends ChangeproofError<'LEDGER_BROKEN'> {}

export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('read, seal and verify the evidence ledger');

  ledger
    .command('list')
    .description('list ledger entries, oldest first')
    .option('--kind <kind>', 'only entries of this kind')
    .option(
      '--subject <subject>',
      'only entries about this subject (a trailing * matches a prefix)',
    )
    .option('--after <seq>', 'only entries after this sequence number', positiveInteger)
    .option('--limit <n>', 'at most this many entries', positiveInteger)
    .action(async (options, command: Command) => {
      const context = commandContext(command);
      const entries = await withWorkspace(context, (ws) =>
        ws.ledger.list({
          kind: options.kind,
          subject: options.subject,
          afterSeq: options.after,
          limit: options.limit,
        }),
      );
      printRows<LedgerEntry>(
        entries,
        [
          { header: 'seq', value: (e) => e.seq },
          { header: 'time', value: (e) => e.time },
          { header: 'kind', value: (e) => e.kind },
          { header: 'subject', value: (e) => e.subject, max: 48 },
          { header: 'actor', value: (e) => e.actor, max: 32 },
        ],
        context.output,
      );
    });

  ledger
    .command('show')
    .description('show one entry with its payload')
    .argument('<seq>', 'sequence number', positiveInteger)
    .action(async (seq: number, _options, command: Command) => {
      const context = commandContext(command);
      const entry = await withWorkspace(context, (ws) => ws.ledger.get(seq));
      if (!entry)
        throw new ChangeproofError(
          'ENTRY_NOT_FOUND',
          `no ledger entry ${seq}; see changeproof ledger list`,
          { category: 'not-found' },
        );
      printValue(entry, context.output === 'table' ? 'yaml' : context.output);
    });

  ledger
    .command('seal')
    .description('seal every entry so far under a checkpoint signed by the control-plane key')
    .action(async (_options, command: Command) => {
      const context = commandContext(command);
      const checkpoint = await withWorkspace(context, (ws) =>
        sealWorkspaceLedger(ws, 'system:ledger-seal'),
      );
      if (!checkpoint) {
        throw new ChangeproofError('LEDGER_EMPTY', 'the ledger has no entries to seal yet');
      }
      const { envelope: _envelope, ...summary } = checkpoint;
      printValue(summary, context.output === 'table' ? 'yaml' : context.output);
    });

  ledger
    .command('prove')
    .description(
      'print the inclusion proof of an entry, or with --from the consistency proof of a size, against the latest checkpoint',
    )
    .argument('[seq]', 'sequence number of the entry to prove', positiveInteger)
    .option(
      '--from <size>',
      'prove the first <size> entries are a prefix of a checkpoint',
      positiveInteger,
    )
    .option(
      '--to <size>',
      'the checkpoint size to prove against (default: the latest)',
      positiveInteger,
    )
    .action(async (seq: number | undefined, options, command: Command) => {
      const context = commandContext(command);
      const format = context.output === 'table' ? 'yaml' : context.output;
      const from = options.from as number | undefined;
      if ((seq === undefined) === (from === undefined) || (options.to && from === undefined)) {
        throw new UsageError(
          'give an entry (ledger prove <seq>) or a size (ledger prove --from <size> [--to <size>])',
        );
      }
      const proof = await withWorkspace(context, async (ws) =>
        from === undefined
          ? (await ws.ledger.proveInclusion([seq!]))[0]
          : ws.ledger.proveConsistency(from, options.to),
      );
      printValue(proof, format);
    });

  ledger
    .command('verify')
    .description('re-hash the chain, check every checkpoint, and name the first broken entry')
    .action(async (_options, command: Command) => {
      const context = commandContext(command);
      const result = await withWorkspace(context, (ws) =>
        verifyLedger(ws.store, ws.controlPlanePublicKey),
      );
      if (context.output !== 'table') printValue(result, context.output);
      else if (result.ok) {
        process.stdout.write(
          `ledger intact: ${result.entries} entries, ${result.checkpoints} checkpoints verified\n`,
        );
      }
      if (!result.ok) {
        const first = result.firstProblem!;
        throw new LedgerCheckFailed(
          'LEDGER_BROKEN',
          `ledger broken at ${first.seq !== undefined ? `entry ${first.seq}` : `checkpoint ${first.checkpoint}`}: ${first.message} (${result.problems.length} problem(s))`,
        );
      }
    });

  return ledger;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1)
    throw new InvalidArgumentError('expected a whole number from 1');
  return number;
}
