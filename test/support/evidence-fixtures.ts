import { createHash } from 'node:crypto';
import {
  recordEvidence,
  type EvidenceKind,
  type EvidencePayloads,
} from '../../src/domain/evidence.ts';
import { canonicalize } from '../../src/ledger/canonical.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { Store } from '../../src/store/open.ts';
import { signEnvelope } from '../../src/supply-chain/dsse.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';

/** Failure cases a fixture deployment can carry; all off gives a clean, fully approved one. */
export interface DeploymentSwitches {
  /** The author approves their own proposal after being refused and forces it through break-glass. */
  selfApprovalBreakGlass?: boolean;
  /** An emergency change whose retroactive review came in time, or never came. */
  emergency?: 'reviewed' | 'overdue';
  /** Someone edits the live Deployment by hand; the drift is reverted and its incident resolved. */
  drift?: boolean;
  /** The same, but nobody answers: no incident, no revert. */
  unansweredDrift?: boolean;
  /** This deployment is a rollback to the previous commit. */
  rollback?: boolean;
  /** The image's scan verdict was `blocked`. */
  scanBlocked?: boolean;
  /** The image carries no signature. */
  unsigned?: boolean;
  /** A production incident caused by the change (a DORA change failure), resolved after `restoreMs`. */
  failure?: { restoreMs: number };
  /** Lead time from the source commit to the deployment; 2 h by default. */
  leadTimeMs?: number;
}

export interface FixtureDeployment {
  n: number;
  deployment: string;
  app: string;
  change?: string;
  proposal: string;
  configCommit: string;
  digest: string;
  syncSeq: number;
  deployedAt: string;
  seqs: Record<string, number>;
}

/** Deterministic hex of a label, so fixtures are stable across runs. */
export function hexOf(label: string, length = 64): string {
  return createHash('sha256').update(label).digest('hex').slice(0, length);
}

const STEP_MS = 30_000;

/**
 * Records a realistic sequence of evidence for deployments through `recordEvidence`, in the
 * order the planes write it (delivery → proposal → reviews → gate → change → merge → sync →
 * verification), on a clock the test controls. Identities: alice authors, bob reviews, carol
 * is CAB, dave is on call, erin reviews emergencies.
 */
export class EvidenceRecorder {
  readonly ledger: Ledger;
  clock: Date;
  private previousCommit = new Map<string, string>();

  /**
   * `ledger` replaces the store's ledger, e.g. an in-memory chain a benchmark writes in bulk;
   * it is given the recorder's clock.
   */
  constructor(
    store: Store,
    start: Date,
    private readonly controlPlane?: Signer,
    private readonly pipelineKeyId = 'pipeline-key',
    ledger?: (clock: () => Date) => Ledger,
  ) {
    this.clock = new Date(start);
    this.ledger = ledger ? ledger(() => this.clock) : new Ledger(store, () => this.clock);
  }

  advance(ms: number): void {
    this.clock = new Date(this.clock.getTime() + ms);
  }

  /** Records one evidence entry at the current clock, then moves the clock on. */
  async record<K extends EvidenceKind>(
    kind: K,
    subject: string,
    actor: string,
    payload: EvidencePayloads[K],
  ): Promise<LedgerEntry> {
    const entry = await recordEvidence(this.ledger, kind, subject, actor, payload);
    this.advance(STEP_MS);
    return entry;
  }

  at(offsetMs = 0): string {
    return new Date(this.clock.getTime() + offsetMs).toISOString();
  }

  /** One production deployment of `service` with everything around it. */
  async deployment(
    n: number,
    options: DeploymentSwitches & { service?: string; env?: string } = {},
  ): Promise<FixtureDeployment> {
    const service = options.service ?? 'checkout';
    const env = options.env ?? 'prod';
    const app = `${env}/${service}`;
    const run = `run-${n}`;
    const proposal = `P-${n}`;
    const digest = `sha256:${hexOf(`image-${n}`)}`;
    const image = `registry.local/${service}@${digest}`;
    const head = hexOf(`head-${n}`, 40);
    const configCommit = hexOf(`merge-${n}`, 40);
    const desiredDigest = `sha256:${hexOf(`desired-${n}`)}`;
    const seqs: Record<string, number> = {};
    const committedAt = new Date(
      this.clock.getTime() - (options.leadTimeMs ?? 2 * 3_600_000),
    ).toISOString();

    seqs.deliveryStarted = (
      await this.record('delivery.started', `run:${run}`, `pipeline:${run}`, {
        run,
        service,
        env,
        sourceRepo: `git@example.com:acme/${service}.git`,
        sourceCommit: hexOf(`source-${n}`, 40),
        dirty: false,
        sourceCommittedAt: committedAt,
      })
    ).seq;
    const lease = `lease-${n}`;
    seqs.leaseOpened = (
      await this.record('broker.lease.opened', `lease:${lease}`, 'system:secret-broker', {
        id: lease,
        holder: `pipeline:${run}`,
        scopes: ['sign:pipeline', 'read:registry/'],
        issuedAt: this.at(),
        expiresAt: this.at(900_000),
        ttlSeconds: 900,
      })
    ).seq;
    seqs.deliveryCompleted = (
      await this.record('delivery.completed', `run:${run}`, `pipeline:${run}`, {
        run,
        service,
        env,
        image,
        sbomDigest: `sha256:${hexOf(`sbom-${n}`)}`,
        scanVerdict: options.scanBlocked ? 'blocked' : 'pass',
        signatureTag: `sha256-${digest.slice(7)}.sig`,
        attestationTag: `sha256-${digest.slice(7)}.att`,
        proposal,
        leases: [lease],
        clusterCredentialsHeld: false,
        provenanceBuilder: 'https://changeproof.dev/pipeline@v1',
      })
    ).seq;
    seqs.leaseRevoked = (
      await this.record('broker.lease.revoked', `lease:${lease}`, 'system:secret-broker', {
        id: lease,
        holder: `pipeline:${run}`,
        revokedAt: this.at(),
      })
    ).seq;
    seqs.proposalOpened = (
      await this.record('proposal.opened', `proposal:${proposal}`, 'alice', {
        proposal,
        service,
        env,
        author: 'alice',
        branch: `bump/${service}-${n}`,
        headCommit: head,
        baseCommit: this.previousCommit.get(app) ?? hexOf('base', 40),
        routine: true,
        changedPaths: [`apps/${service}/overlays/${env}/kustomization.yaml`],
        image,
      })
    ).seq;
    const approval = await this.approve(n, {
      proposal,
      service,
      env,
      head,
      options,
      seqs,
      image,
      digest,
    });
    seqs.merged = (
      await this.record('proposal.merged', `proposal:${proposal}`, approval.mergedBy, {
        proposal,
        service,
        env,
        headCommit: head,
        mergeCommit: configCommit,
        mergedBy: approval.mergedBy,
        author: 'alice',
        lastPusher: 'alice',
        approvals: approval.approvals,
        change: approval.change,
        path: approval.path,
        desiredDigest,
        commitSignedBy: 'changeproof-merge-key',
      })
    ).seq;
    if (options.rollback) {
      seqs.rollback = (
        await this.record('rollback.requested', `app:${app}`, 'dave', {
          app,
          toCommit: this.previousCommit.get(app) ?? hexOf('base', 40),
          proposal,
          reason: 'error rate',
        })
      ).seq;
    }
    const deployment = `${app}/${n}`;
    const startedAt = this.at();
    seqs.syncStarted = (
      await this.record('sync.started', `deployment:${deployment}`, 'system:reconciler', {
        deployment,
        app,
        configCommit,
        change: approval.change,
        initiator: 'system:reconciler',
      })
    ).seq;
    seqs.observed = (
      await this.record('cluster.change-observed', `app:${app}`, 'system:reconciler', {
        app,
        object: `Deployment/${service}/${service}`,
        fieldManager: 'changeproof',
        generation: n,
      })
    ).seq;
    const finishedAt = this.at();
    const sync = await this.record(
      'sync.completed',
      `deployment:${deployment}`,
      'system:reconciler',
      {
        deployment,
        app,
        env,
        service,
        configCommit,
        change: approval.change,
        images: [
          { name: service, digest, signedBy: options.unsigned ? undefined : this.pipelineKeyId },
        ],
        desiredDigest,
        liveDigest: desiredDigest,
        startedAt,
        finishedAt,
        initiator: 'system:reconciler',
        health: 'Healthy',
      },
    );
    seqs.sync = sync.seq;
    await this.afterSync({
      n,
      app,
      service,
      env,
      deployment,
      configCommit,
      desiredDigest,
      options,
      seqs,
      approval,
    });
    this.previousCommit.set(app, configCommit);
    return {
      n,
      deployment,
      app,
      change: approval.change,
      proposal,
      configCommit,
      digest,
      syncSeq: sync.seq,
      deployedAt: finishedAt,
      seqs,
    };
  }

  /** A change only the cluster saw: someone applied by hand and no drift detector caught it. */
  async clusterOnlyChange(
    app: string,
    fieldManager = 'kubectl-client-side-apply',
  ): Promise<number> {
    const [, service] = app.split('/');
    return (
      await this.record('cluster.change-observed', `app:${app}`, 'system:cluster-watch', {
        app,
        object: `Deployment/${service}/${service}`,
        fieldManager,
        generation: 99,
      })
    ).seq;
  }

  private async approve(
    n: number,
    c: {
      proposal: string;
      service: string;
      env: string;
      head: string;
      options: DeploymentSwitches;
      seqs: Record<string, number>;
      image: string;
      digest: string;
    },
  ) {
    const { proposal, service, env, head, options, seqs } = c;
    const change = options.selfApprovalBreakGlass ? undefined : `CHG${String(n).padStart(5, '0')}`;
    const type = options.emergency ? 'emergency' : 'normal';
    if (change) {
      seqs.changeOpened = (
        await this.record('change.opened', `change:${change}`, 'system:change', {
          change,
          type,
          proposal,
          service,
          env,
          artifact: c.image,
          scanVerdict: 'pass',
          signer: this.pipelineKeyId,
        })
      ).seq;
    }
    if (options.selfApprovalBreakGlass) {
      seqs.refused = (
        await this.record('proposal.refused', `proposal:${proposal}`, 'alice', {
          proposal,
          actor: 'alice',
          action: 'emergency',
          code: 'SELF_APPROVAL',
          reason: 'alice wrote proposal P-3 and cannot approve it',
        })
      ).seq;
      // As `change emergency --break-glass` records it: the change system is down and the
      // on-call engineer is the author, so the override is the only approval there is.
      seqs.breakGlass = (
        await this.record('change.break-glass', `proposal:${proposal}`, 'alice', {
          proposal,
          actor: 'alice',
          roles: ['developer', 'oncall'],
          reason: 'change system unreachable',
          system: 'servicenow',
          selfApproved: true,
        })
      ).seq;
      return { change, mergedBy: 'alice', path: 'break-glass' as const, approvals: [] };
    }
    if (options.emergency) {
      const dueBy = this.at(72 * 3_600_000);
      seqs.emergency = (
        await this.record('change.emergency', `change:${change}`, 'dave', {
          change: change!,
          proposal,
          declaredBy: 'dave',
          reason: 'outage',
          reviewDueBy: dueBy,
        })
      ).seq;
      const at = this.at();
      seqs.changeApproved = (
        await this.record('change.approved', `change:${change}`, 'dave', {
          change: change!,
          approver: 'dave',
          role: 'oncall',
          at,
        })
      ).seq;
      seqs.review = (
        await this.record('proposal.reviewed', `proposal:${proposal}`, 'dave', {
          proposal,
          reviewer: 'dave',
          roles: ['oncall'],
          state: 'approved',
          commit: head,
        })
      ).seq;
      return {
        change,
        mergedBy: 'dave',
        path: 'emergency' as const,
        approvals: [{ reviewer: 'dave', roles: ['oncall'], commit: head, at }],
      };
    }
    const reviewedAt = this.at();
    seqs.review = (
      await this.record('proposal.reviewed', `proposal:${proposal}`, 'bob', {
        proposal,
        reviewer: 'bob',
        roles: ['approver'],
        state: 'approved',
        commit: head,
      })
    ).seq;
    seqs.changeApproved = (
      await this.record('change.approved', `change:${change}`, 'carol', {
        change: change!,
        approver: 'carol',
        role: 'cab',
        at: this.at(),
      })
    ).seq;
    seqs.gate = (
      await this.record('gate.verdict', `proposal:${proposal}`, 'system:gate', {
        proposal,
        commit: head,
        context: 'changeproof/change-approved',
        state: 'success',
        rule: 'prod-normal',
        inputs: { change: change! },
      })
    ).seq;
    return {
      change,
      mergedBy: 'bob',
      path: 'normal' as const,
      approvals: [{ reviewer: 'bob', roles: ['approver'], commit: head, at: reviewedAt }],
    };
  }

  private async afterSync(c: {
    n: number;
    app: string;
    service: string;
    env: string;
    deployment: string;
    configCommit: string;
    desiredDigest: string;
    options: DeploymentSwitches;
    seqs: Record<string, number>;
    approval: { change?: string };
  }) {
    const { n, app, service, deployment, configCommit, desiredDigest, options, seqs } = c;
    if (c.approval.change) {
      seqs.implement = (
        await this.record('change.state', `change:${c.approval.change}`, 'system:change', {
          change: c.approval.change,
          from: 'Scheduled',
          to: 'Implement',
          stateCode: -1,
        })
      ).seq;
    }
    if (options.selfApprovalBreakGlass) {
      // The change system is back: the record is created retroactively, after the sync.
      seqs.retroChange = (
        await this.record('change.opened', `change:CHG-BG-${n}`, 'system:change', {
          change: `CHG-BG-${n}`,
          type: 'emergency',
          proposal: `P-${n}`,
          service,
          env: c.env,
          retroactive: true,
        })
      ).seq;
    }
    seqs.verification = (await this.verification(app, configCommit, desiredDigest)).seq;
    if (options.drift || options.unansweredDrift)
      await this.drift(app, service, desiredDigest, !options.drift, seqs);
    if (options.emergency === 'reviewed') {
      seqs.retroReview = (
        await this.record('change.retro-reviewed', `change:${c.approval.change}`, 'erin', {
          change: c.approval.change!,
          reviewer: 'erin',
          outcome: 'accepted',
        })
      ).seq;
    }
    if (options.failure) {
      const incident = `INC-F-${n}`;
      seqs.failureIncident = (
        await this.record('incident.opened', `incident:${incident}`, 'system:monitor', {
          incident,
          app,
          cause: 'sync-failure',
          link: `deployment:${deployment}`,
          deployment,
          change: c.approval.change,
        })
      ).seq;
      this.advance(options.failure.restoreMs);
      seqs.failureResolved = (
        await this.record('incident.resolved', `incident:${incident}`, 'dave', {
          incident,
          resolution: 'rolled back',
        })
      ).seq;
    }
  }

  private async drift(
    app: string,
    service: string,
    desiredDigest: string,
    unanswered: boolean,
    seqs: Record<string, number>,
  ) {
    const object = `Deployment/${service}/${service}`;
    seqs.driftObserved = (
      await this.record('cluster.change-observed', `app:${app}`, 'system:cluster-watch', {
        app,
        object,
        fieldManager: 'kubectl-set',
        generation: 7,
      })
    ).seq;
    const drift = await this.record('drift.detected', `app:${app}`, 'system:drift-detector', {
      app,
      object,
      fields: ['spec.template.spec.containers[0].image'],
      diff: '- image: …@sha256:…\n+ image: nginx:latest',
      fieldManager: 'kubectl-set',
      desiredDigest,
      action: unanswered ? 'detect-only' : 'reverted',
    });
    seqs.drift = drift.seq;
    if (unanswered) return;
    const incident = `INC-D-${drift.seq}`;
    seqs.driftIncident = (
      await this.record('incident.opened', `incident:${incident}`, 'system:drift-detector', {
        incident,
        app,
        cause: 'drift',
        link: `ledger:${drift.seq}`,
      })
    ).seq;
    seqs.driftReverted = (
      await this.record('drift.reverted', `app:${app}`, 'system:reconciler', {
        app,
        object,
        desiredDigest,
      })
    ).seq;
    seqs.driftResolved = (
      await this.record('incident.resolved', `incident:${incident}`, 'system:reconciler', {
        incident,
        resolution: 'reverted by self-heal',
      })
    ).seq;
  }

  private async verification(app: string, configCommit: string, desiredDigest: string) {
    const statement = {
      app,
      configCommit,
      desiredDigest,
      liveDigest: desiredDigest,
      equal: true,
      at: this.at(),
    };
    const attestation = this.controlPlane
      ? await signEnvelope(
          'application/vnd.changeproof.verification.v1+json',
          Buffer.from(canonicalize(statement)),
          this.controlPlane,
        )
      : { unsigned: true };
    return this.record('verification.sealed', `app:${app}`, 'system:verifier', {
      app,
      configCommit,
      desiredDigest,
      liveDigest: desiredDigest,
      equal: true,
      attestation: attestation as unknown as { [key: string]: never },
    });
  }
}
