import type { ChangeRecord } from '../domain/change-system.ts';
import { SYSTEM_ACTOR, type ChangeContext } from './context.ts';
import { ChangeError } from './errors.ts';
import { advanceChange } from './transitions.ts';

/** A deployment the CD plane finished, as the change record links it. */
export interface DeploymentRef {
  /** `deployment:<env>/<service>/<n>` or the deployment's id. */
  id: string;
  notes?: string;
}

/** An incident the CD plane opened for a failed sync. */
export interface IncidentRef {
  id: string;
  notes?: string;
}

/**
 * The change lifecycle after merge, driven by the CD plane: a verified sync moves the change to
 * Review and closes it successful; a failed sync closes it unsuccessful with its incident linked.
 */
export class ChangeLifecycle {
  constructor(private readonly context: ChangeContext) {}

  async onSyncSucceeded(changeId: string, deployment: DeploymentRef): Promise<ChangeRecord> {
    const change = await this.deployable(changeId);
    const reviewed = await advanceChange(this.context, change, 'Review', SYSTEM_ACTOR, {
      reason: `deployed and verified as ${deployment.id}`,
      deployment: deployment.id,
    });
    return advanceChange(this.context, reviewed, 'Closed', SYSTEM_ACTOR, {
      reason: 'live state verified equal to the approved state',
      closeCode: 'successful',
      closeNotes: deployment.notes ?? `deployed as ${deployment.id}`,
    });
  }

  async onSyncFailed(changeId: string, incident: IncidentRef): Promise<ChangeRecord> {
    const change = await this.deployable(changeId);
    const reviewed = await advanceChange(this.context, change, 'Review', SYSTEM_ACTOR, {
      reason: `sync failed; incident ${incident.id}`,
      incident: incident.id,
    });
    return advanceChange(this.context, reviewed, 'Closed', SYSTEM_ACTOR, {
      reason: `sync failed; incident ${incident.id}`,
      closeCode: 'unsuccessful',
      closeNotes: incident.notes ?? `sync failed; see incident ${incident.id}`,
      incident: incident.id,
    });
  }

  /** A sync result applies only to a merged change that is being implemented. */
  private async deployable(changeId: string): Promise<ChangeRecord> {
    const change = await this.context.changeSystem.get(changeId);
    if (change.state !== 'Implement' && change.state !== 'Review') {
      throw new ChangeError(
        'INVALID_TRANSITION',
        `change ${changeId} is ${change.state}; only a merged change in Implement takes a sync result`,
      );
    }
    return change;
  }
}
