import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { EvidencePayloads } from '../../domain/evidence.ts';
import type { LedgerRecord } from '../../ledger/entry.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Database } from '../../store/schema.ts';
import type { DeliveryClaims } from '../delivery-claims.ts';
import type { GithubForge } from './index.ts';
import { snapshotApprovals } from './approvals.ts';
import { toReview } from './index.ts';
import { pullRequestEventSchema, pullRequestReviewEventSchema, pushEventSchema } from './schema.ts';

/** What the receiver did with one delivery; `status` is the HTTP answer to give GitHub. */
export interface WebhookOutcome {
  status: 202 | 400 | 401;
  outcome: 'recorded' | 'ignored' | 'duplicate' | 'rejected';
  reason?: string;
}

export interface WebhookDelivery {
  headers: Record<string, string | string[] | undefined>;
  /** The exact bytes GitHub sent: the signature is over them, not over re-serialised JSON. */
  rawBody: Buffer;
}

/** `sha256=<hex>` of HMAC-SHA256 over `body` with `secret`, as GitHub signs deliveries. */
export function signWebhook(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Receives GitHub webhooks (`pull_request`, `pull_request_review`, `push`): verifies
 * X-Hub-Signature-256 in constant time, drops deliveries already seen (X-GitHub-Delivery: claimed
 * in the store before handling, so API replicas sharing one database handle a delivery once, and
 * looked up in the ledger, so a restart does not forget one), and records what happened. A
 * delivery with a missing or wrong signature is answered 401, recorded as rejected, and changes
 * nothing.
 *
 * A delivery whose evidence follows from its payload alone (a review, or an event that changes
 * nothing) is claimed and recorded in one transaction, group-committed with the deliveries that
 * arrived with it: it is recorded once and whole, or not at all and taken again on redelivery.
 * Pushes and pull request events read GitHub first, so they are claimed before handling.
 */
export class GithubWebhookReceiver {
  constructor(
    private readonly options: {
      secret: string;
      ledger: Ledger;
      forge: GithubForge;
      /** Where delivery ids are claimed: the store's, shared by every replica. */
      claims: DeliveryClaims;
      userOf?: (login: string) => string;
    },
  ) {}

  async receive(delivery: WebhookDelivery): Promise<WebhookOutcome> {
    const id = header(delivery, 'x-github-delivery') ?? '';
    const event = header(delivery, 'x-github-event') ?? '';
    const signature = header(delivery, 'x-hub-signature-256');

    const refusal = this.verify(signature, delivery.rawBody);
    if (refusal) {
      await this.options.ledger.append({
        kind: 'webhook.rejected',
        subject: `webhook:github:${id || 'unknown'}`,
        actor: 'system:github-webhook',
        payload: { delivery: id, event, reason: refusal },
      });
      return { status: 401, outcome: 'rejected', reason: refusal };
    }
    if (!id) return { status: 400, outcome: 'rejected', reason: 'X-GitHub-Delivery is missing' };
    let body: unknown;
    try {
      body = JSON.parse(delivery.rawBody.toString('utf8'));
    } catch {
      return { status: 400, outcome: 'rejected', reason: 'the payload is not JSON' };
    }
    const evidence = this.selfContained(event, body);
    if (evidence) return this.recordClaimed(id, event, evidence);
    // Claimed before handling: the same id arriving meanwhile, at this replica or another, is a
    // duplicate, never handled twice.
    if (!(await this.options.claims.claim(id))) return { status: 202, outcome: 'duplicate' };
    try {
      if (await this.recordedBefore(id)) return { status: 202, outcome: 'duplicate' };
      const recorded = await this.dispatch(event, body);
      await this.options.ledger.append(receiptOf(id, event, recorded));
      return { status: 202, outcome: recorded ? 'recorded' : 'ignored' };
    } catch (error) {
      // Not handled: GitHub's redelivery of this id must be taken, not dropped as a duplicate.
      await this.options.claims.release(id).catch(() => undefined);
      throw error;
    }
  }

  private verify(signature: string | undefined, body: Buffer): string | undefined {
    if (!signature) return 'X-Hub-Signature-256 is missing';
    const expected = Buffer.from(signWebhook(this.options.secret, body));
    const given = Buffer.from(signature);
    // Lengths first: timingSafeEqual throws on unequal lengths, and the length is not secret.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return 'X-Hub-Signature-256 does not match the payload';
    }
    return undefined;
  }

  /**
   * Claims and records a self-contained delivery in one transaction: its evidence and its receipt
   * are written only if the claim is taken there and no receipt exists yet.
   */
  private async recordClaimed(
    id: string,
    event: string,
    evidence: LedgerRecord[],
  ): Promise<WebhookOutcome> {
    const recorded = evidence.length > 0;
    const entries = await this.options.ledger.appendAll(
      [...evidence, receiptOf(id, event, recorded)],
      async (db) => (await this.options.claims.claimIn(db, id)) && !(await hasReceipt(db, id)),
    );
    if (!entries) return { status: 202, outcome: 'duplicate' };
    return { status: 202, outcome: recorded ? 'recorded' : 'ignored' };
  }

  /**
   * The evidence a delivery yields when its payload alone decides it (none for an event that
   * changes nothing); undefined when handling has to read GitHub or the ledger first.
   */
  private selfContained(event: string, body: unknown): LedgerRecord[] | undefined {
    if (event === 'pull_request' || event === 'push') return undefined;
    if (event !== 'pull_request_review') return [];
    const review = this.reviewOf(parse(pullRequestReviewEventSchema, body));
    return review ? [reviewedRecord(review)] : [];
  }

  /** True when the ledger holds the delivery: handled before a restart. */
  private async recordedBefore(id: string): Promise<boolean> {
    const entries = await this.options.ledger.list({
      kind: 'webhook.received',
      subject: `webhook:github:${id}`,
      limit: 1,
    });
    return entries.length > 0;
  }

  /** True when the event was recorded as evidence. */
  private async dispatch(event: string, body: unknown): Promise<boolean> {
    if (event === 'pull_request') return this.onPullRequest(parse(pullRequestEventSchema, body));
    if (event === 'push') return this.onPush(parse(pushEventSchema, body));
    return false;
  }

  private async onPullRequest(event?: z.infer<typeof pullRequestEventSchema>): Promise<boolean> {
    const { forge, ledger } = this.options;
    if (!event) return false;
    const id = String(event.pull_request.number);
    if (event.action === 'synchronize') {
      const pushes = await ledger.list({ kind: 'proposal.pushed', subject: `proposal:${id}` });
      if (pushes.some((entry) => entry.payload.headCommit === event.pull_request.head.sha))
        return false;
      await forge.recordPush(id, this.userOf(event.sender.login));
      return true;
    }
    if (event.action !== 'closed' || !event.pull_request.merged) return false;
    // A merge through changeproof was recorded when it happened; only a merge on GitHub's own
    // button needs the snapshot here.
    const merged = await ledger.list({
      kind: 'proposal.merged',
      subject: `proposal:${id}`,
      limit: 1,
    });
    if (merged.length > 0) return false;
    const proposal = await forge.getProposal(id);
    const snapshot = snapshotApprovals(proposal, await forge.listReviews(id));
    const mergedBy = this.userOf(event.pull_request.merged_by?.login ?? event.sender.login);
    // GitHub let the merge through, so the approvals that should not count are evidence too:
    // recorded as approvals by the author or last pusher, every audit reports them (CP-02).
    const given = [...snapshot.approvals, ...snapshot.violations.map(({ code: _, ...a }) => a)];
    await forge.recordMerge(proposal, mergedBy, given, await this.mergePathOf(id));
    return true;
  }

  /** The path the change took as the ledger knows it: emergency or break-glass, else normal. */
  private async mergePathOf(proposal: string): Promise<'normal' | 'emergency' | 'break-glass'> {
    const { ledger } = this.options;
    const brokeGlass = await ledger.list({ kind: 'change.break-glass' });
    if (brokeGlass.some((e) => e.payload.proposal === proposal)) return 'break-glass';
    const emergencies = await ledger.list({ kind: 'change.emergency' });
    if (emergencies.some((e) => e.payload.proposal === proposal)) return 'emergency';
    return 'normal';
  }

  /** The submitted review a `pull_request_review` event reports; undefined for other actions. */
  private reviewOf(
    event?: z.infer<typeof pullRequestReviewEventSchema>,
  ): SubmittedReview | undefined {
    if (!event || event.action !== 'submitted') return undefined;
    const review = toReview(String(event.pull_request.number), event.review, (login) =>
      this.userOf(login),
    );
    return review.state === 'dismissed' ? undefined : { ...review, state: review.state };
  }

  private async onPush(event?: z.infer<typeof pushEventSchema>): Promise<boolean> {
    if (!event) return false;
    const branch = event.ref.replace(/^refs\/heads\//, '');
    const proposal = await this.options.forge.openProposalOnBranch(branch);
    if (!proposal) return false;
    // GitHub also sends pull_request.synchronize for the same push; record it once.
    const pushes = await this.options.ledger.list({
      kind: 'proposal.pushed',
      subject: `proposal:${proposal}`,
    });
    if (pushes.some((entry) => entry.payload.headCommit === event.after)) return false;
    await this.options.forge.recordPush(proposal, this.userOf(event.pusher.name));
    return true;
  }

  private userOf(login: string): string {
    return this.options.userOf?.(login) ?? login;
  }
}

type SubmittedReview = ReturnType<typeof toReview> & {
  state: EvidencePayloads['proposal.reviewed']['state'];
};

/** The `proposal.reviewed` evidence of a review submitted on GitHub. */
function reviewedRecord(review: SubmittedReview): LedgerRecord {
  const payload: EvidencePayloads['proposal.reviewed'] = {
    proposal: review.proposal,
    reviewer: review.reviewer,
    roles: [],
    state: review.state,
    commit: review.commit,
  };
  return {
    kind: 'proposal.reviewed',
    subject: `proposal:${review.proposal}`,
    actor: review.reviewer,
    payload,
  };
}

/** The receipt of a handled delivery: what lets a restart, or another replica, know it. */
function receiptOf(id: string, event: string, recorded: boolean): LedgerRecord {
  return {
    kind: 'webhook.received',
    subject: `webhook:github:${id}`,
    actor: 'system:github-webhook',
    payload: { delivery: id, event, recorded },
  };
}

/** True when `db` holds the delivery's receipt. */
async function hasReceipt(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('ledger_entries')
    .select('seq')
    .where('kind', '=', 'webhook.received')
    .where('subject', '=', `webhook:github:${id}`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

function header(delivery: WebhookDelivery, name: string): string | undefined {
  const value = delivery.headers[name] ?? delivery.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> | undefined {
  const parsed = schema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}
