import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1WireRequests, CoreV1WireRequests } from '@nodeagent/informer';
import { isConflict, isNotFound } from '@nodeagent/informer/errors';
import { Backoff, type Clock, systemClock, type Wire } from '@nodeagent/primitives';
import { REGISTRATION_BACKOFF } from './node-registrar';
import { NODE_LEASE_NAMESPACE } from './node-status-config';
import { Sleeper } from './scheduler';

/** The API calls, node and timings a NodeLeaseController renews with. */
export interface NodeLeaseControllerOptions {
  core: Pick<CoreV1WireRequests, 'readNode'>;
  coordination: CoordinationV1WireRequests;
  nodeName: string;
  leaseDurationSeconds: number;
  renewIntervalMs: number;
  clock?: Clock;
  /** Called with every failure it recovers from, and upstream's log message for it. */
  onError?: (err: unknown, during: string) => void;
  /** Called after every successful renewal (create or update), with the server's copy. */
  onRenew?: (lease: Wire<V1Lease>) => void;
  /** An update failed again within one renewal, not by a conflict (upstream's onRepeatedHeartbeatFailure). */
  onRepeatedHeartbeatFailure?: () => void;
}

/** The kubelet retries an update this often before re-reading the lease. */
const MAX_UPDATE_RETRIES = 5;

/**
 * Heartbeat through the node's Lease in kube-node-lease, like the kubelet's lease controller:
 * create it if missing (owner reference to the Node), then renew every renewInterval by
 * updating the last seen version; on a conflict or any failure, re-read (with backoff while
 * the API server is down) and carry on — it never throws out of its loop.
 */
export class NodeLeaseController {
  private readonly clock: Clock;
  private readonly sleeper: Sleeper;
  private latest: Wire<V1Lease> | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: NodeLeaseControllerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.sleeper = new Sleeper(this.clock);
  }

  /** The lease as last written or read (the server's copy), if any. */
  get latestLease(): Wire<V1Lease> | undefined {
    return this.latest;
  }

  /** Starts renewing (once). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops renewing; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.sleeper.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.sleeper.isStopped) {
      const began = this.clock.now();
      await this.sync();
      // Renew on a fixed cadence measured from the start of this sync.
      const wait = Math.max(0, this.opts.renewIntervalMs - (this.clock.now() - began));
      if (!(await this.sleeper.sleep(wait))) return;
    }
  }

  /**
   * One heartbeat, as upstream's lease controller: update the lease we hold (no GET first), or
   * else read or create it and update what was read.
   */
  async sync(): Promise<void> {
    if (this.latest && (await this.retryUpdate(this.latest))) return;
    const ensured = await this.backoffEnsureLease();
    if (!ensured) return;
    this.latest = ensured.lease;
    // A lease just created needs no update.
    if (!ensured.created) await this.retryUpdate(ensured.lease);
  }

  /**
   * Up to five updates from `base`: a conflict re-reads (or re-creates) the lease and updates
   * that; any other failure after the first calls onRepeatedHeartbeatFailure.
   */
  private async retryUpdate(base: Wire<V1Lease>): Promise<boolean> {
    let current = base;
    for (let i = 0; i < MAX_UPDATE_RETRIES && !this.sleeper.isStopped; i++) {
      try {
        const lease = await this.opts.coordination.replaceNamespacedLease({
          name: this.opts.nodeName,
          namespace: NODE_LEASE_NAMESPACE,
          body: await this.renewed(current),
        });
        this.latest = lease;
        this.opts.onRenew?.(lease);
        return true;
      } catch (err) {
        this.opts.onError?.(err, 'Failed to update lease');
        if (isConflict(err)) {
          // Someone else wrote it: go on from the server's copy.
          const ensured = await this.backoffEnsureLease();
          if (!ensured) return false;
          current = ensured.lease;
          continue;
        }
        if (i > 0) this.opts.onRepeatedHeartbeatFailure?.();
      }
    }
    return false;
  }

  /** Gets the lease or creates it, retrying with backoff until it works or we stop. */
  private async backoffEnsureLease(): Promise<{ lease: Wire<V1Lease>; created: boolean } | undefined> {
    const backoff = new Backoff(REGISTRATION_BACKOFF);
    while (!this.sleeper.isStopped) {
      try {
        const got = await this.opts.coordination.readNamespacedLease({
          name: this.opts.nodeName,
          namespace: NODE_LEASE_NAMESPACE,
        });
        return { lease: got, created: false };
      } catch (err) {
        if (!isNotFound(err)) {
          this.opts.onError?.(err, 'Failed to ensure lease exists, will retry');
          if (!(await this.sleeper.sleep(backoff.next()))) return undefined;
          continue;
        }
      }
      try {
        const lease = await this.opts.coordination.createNamespacedLease({
          namespace: NODE_LEASE_NAMESPACE,
          body: await this.renewed(undefined),
        });
        this.latest = lease;
        this.opts.onRenew?.(lease);
        return { lease, created: true };
      } catch (err) {
        this.opts.onError?.(err, 'Failed to ensure lease exists, will retry');
        if (!(await this.sleeper.sleep(backoff.next()))) return undefined;
      }
    }
    return undefined;
  }

  /** A copy of base (or a fresh lease) with renewTime now and the Node as owner when known. */
  private async renewed(base: Wire<V1Lease> | undefined): Promise<Wire<V1Lease>> {
    const lease: Wire<V1Lease> = base
      ? { ...base, metadata: { ...base.metadata }, spec: { ...base.spec } }
      : {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.nodeName, namespace: NODE_LEASE_NAMESPACE },
          spec: {},
        };
    lease.spec = {
      ...lease.spec,
      holderIdentity: this.opts.nodeName,
      leaseDurationSeconds: this.opts.leaseDurationSeconds,
      // The API's MicroTime: RFC 3339 with microseconds.
      renewTime: new V1MicroTime(this.clock.now()).toISOString(),
    };
    if (!lease.metadata?.ownerReferences?.length) {
      const uid = await this.nodeUID();
      if (uid) {
        lease.metadata = {
          ...lease.metadata,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid }],
        };
      }
    }
    return lease;
  }

  private async nodeUID(): Promise<string | undefined> {
    try {
      return (await this.opts.core.readNode({ name: this.opts.nodeName })).metadata?.uid;
    } catch (err) {
      // The lease is still worth renewing; the owner reference is added on a later renewal.
      this.opts.onError?.(err, 'Failed to get node when trying to set owner ref to the node lease');
      return undefined;
    }
  }
}
