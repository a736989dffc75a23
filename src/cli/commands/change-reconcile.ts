import { Command } from 'commander';
import {
  reconcileChangeRecords,
  type ChangeRecordFinding,
} from '../../adapters/servicenow/index.ts';
import { ChangeproofError, UsageError } from '../../errors.ts';
import { commandContext, withWorkspace } from '../context.ts';
import { printRows } from '../output.ts';

/** Change records in the change system differ from the snapshots the ledger holds. */
export class ChangeRecordsEdited extends ChangeproofError<'CHANGE_RECORDS_EDITED'> {}

/**
 * `changeproof change reconcile [number...]`: compares the change records in ServiceNow with
 * the ledger's snapshots and prints each difference as a finding with the ledger entry that
 * stands. Records edited behind changeproof's back fail the check; the ledger is not touched.
 */
export function changeReconcileCommand(): Command {
  return new Command('reconcile')
    .description('compare ServiceNow change records with the ledger; differences are findings')
    .argument('[numbers...]', 'change numbers (default: every change the ledger opened)')
    .action(async (numbers: string[], _options, command: Command) => {
      const context = commandContext(command);
      const result = await withWorkspace(context, async (ws) => {
        const changeSystem = ws.connected?.changeSystem;
        if (ws.config.adapters.changeSystem !== 'servicenow' || !changeSystem)
          throw new UsageError(
            'change reconcile compares ServiceNow with the ledger: select adapters.changeSystem: servicenow',
          );
        return reconcileChangeRecords(changeSystem, ws.ledger, numbers);
      });
      printRows<ChangeRecordFinding>(
        result.findings,
        [
          { header: 'change', value: (f) => f.change },
          { header: 'field', value: (f) => f.field },
          { header: 'ledger (stands)', value: (f) => f.ledger },
          { header: 'servicenow', value: (f) => f.live },
          { header: 'evidence', value: (f) => (f.evidence === undefined ? '-' : `#${f.evidence}`) },
        ],
        context.output,
      );
      if (result.findings.length > 0) {
        const changes = [...new Set(result.findings.map((f) => f.change))];
        throw new ChangeRecordsEdited(
          'CHANGE_RECORDS_EDITED',
          `${result.findings.length} difference(s) in ${changes.join(', ')} edited outside changeproof; the ledger snapshot stands`,
          { details: { findings: result.findings.length } },
        );
      }
    });
}
