import type { KubeClient } from '../kubernetes/client.ts';
import { KubeError } from '../kubernetes/errors.ts';

/** A coordination.k8s.io/v1 Lease as the elector reads and writes it. */
interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseElectorOptions {
  client: KubeClient;
  name: string;
  namespace: string;
  /** This replica's identity (the pod name). */
  identity: string;
  leaseDurationSeconds: number;
  /** How often to renew or try to acquire; a third of the lease duration by default. */
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  clock?: () => number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder
 * renews `renewTime` every retry period; another replica takes the Lease only when it has seen
 * the same record unchanged for a whole `leaseDurationSeconds` (its own clock, so skew between
 * nodes does not matter). Every write carries the resourceVersion that was read, so two replicas
 * racing for an expired Lease cannot both win: the API server answers the loser 409. A leader
 * that cannot renew within the lease duration steps down before anyone else may take over.
 */
export class LeaseElector {
  private leading = false;
  private lastRenewed = 0;
  private observed?: { record: string; at: number };
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly clock: () => number;

  constructor(private readonly options: LeaseElectorOptions) {
    this.clock = options.clock ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Runs the election loop until {@link stop}. */
  start(): void {
    const period = this.options.retryPeriodMs ?? (this.options.leaseDurationSeconds * 1000) / 3;
    const tick = async () => {
      if (this.stopped) return;
      await this.step();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), period);
    };
    void tick();
  }

  /** Stops renewing (the Lease is released so a successor need not wait) and steps down. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading && options.release !== false) await this.release().catch(() => undefined);
    await this.setLeading(false);
  }

  /** One round: acquire or renew; true while this replica leads. */
  async step(): Promise<boolean> {
    try {
      const renewed = await this.tryAcquireOrRenew();
      if (renewed) this.lastRenewed = this.clock();
      await this.setLeading(renewed);
    } catch {
      // The API server is unreachable: keep leading only until the renew deadline, two thirds of
      // the lease, so this replica has stopped before another may take the Lease over.
      const expired =
        this.clock() - this.lastRenewed >= (this.options.leaseDurationSeconds * 1000 * 2) / 3;
      if (expired) await this.setLeading(false);
    }
    return this.leading;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock();
    const current = await this.read();
    if (!current) return this.create(now);

    const spec = current.spec;
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const heldByMe = spec.holderIdentity === this.options.identity;
    const expired =
      !spec.holderIdentity || now - this.observed.at >= (spec.leaseDurationSeconds ?? 0) * 1000;
    if (!heldByMe && !expired) return false;

    const next: Lease = {
      ...current,
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        acquireTime: heldByMe && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (heldByMe ? 0 : 1),
      },
    };
    return this.write('PUT', next);
  }

  private create(now: number): Promise<boolean> {
    return this.write('POST', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    });
  }

  /** Gives the Lease up: an empty holder lets the next replica take it at once. */
  private async release(): Promise<void> {
    const current = await this.read();
    if (current?.spec.holderIdentity !== this.options.identity) return;
    await this.write('PUT', {
      ...current,
      spec: { ...current.spec, holderIdentity: '', renewTime: microTime(this.clock()) },
    });
  }

  private async read(): Promise<Lease | undefined> {
    try {
      return await this.options.client.transport.request<Lease>({
        method: 'GET',
        path: this.path(this.options.name),
      });
    } catch (error) {
      if (error instanceof KubeError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** A write that lost the race (409 Conflict or AlreadyExists) is not leadership, not an error. */
  private async write(method: 'POST' | 'PUT', lease: Lease): Promise<boolean> {
    try {
      await this.options.client.transport.request({
        method,
        path: this.path(method === 'PUT' ? this.options.name : undefined),
        body: lease,
        contentType: 'application/json',
      });
      return true;
    } catch (error) {
      if (error instanceof KubeError && ['CONFLICT', 'ALREADY_EXISTS'].includes(error.code))
        return false;
      throw error;
    }
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
    return name ? `${base}/${encodeURIComponent(name)}` : base;
  }

  private async setLeading(leading: boolean): Promise<void> {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) await this.options.onStartedLeading();
    else await this.options.onStoppedLeading();
  }
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
