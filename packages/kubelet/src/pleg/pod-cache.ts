import type { PodRuntimeStatus } from '../cri/runtime-state';

/** One pod's runtime status in the {@link PodCache}, with when and in which order it was observed. */
export interface CachedPodStatus {
  /** The pod's sandboxes and containers as the runtime reported them. */
  status: PodRuntimeStatus;
  /** When this status was observed (ms). */
  observedAt: number;
  /**
   * Order in which the observation was started (a relist or a single-pod refresh). A listing
   * that began earlier may finish later; it must not overwrite a newer view of the pod.
   */
  sequence: number;
}

/** The PLEG's view of each pod's runtime state, which pod syncs read instead of asking the runtime. */
export class PodCache {
  private readonly entries = new Map<string, CachedPodStatus>();

  /** The newest observation of pod `uid`, or undefined if the runtime has shown nothing of it. */
  get(uid: string): CachedPodStatus | undefined {
    return this.entries.get(uid);
  }

  /**
   * Stores an observation unless a newer one (higher sequence) is already cached, like upstream's
   * cache.Set keeping the most recent modification time. Returns whether it was stored.
   */
  set(uid: string, status: PodRuntimeStatus, observedAt: number, sequence = 0): boolean {
    const existing = this.entries.get(uid);
    if (existing && existing.sequence > sequence) return false;
    // The same status seen again (a steady pod, relisted every second): a newer time on the entry
    // it has, not a new entry that V8 would promote before the next relist drops it.
    if (existing?.status === status) {
      existing.observedAt = observedAt;
      existing.sequence = sequence;
    } else this.entries.set(uid, { status, observedAt, sequence });
    return true;
  }

  /** Forgets a pod; with a sequence, only if nothing newer than that observation is cached. */
  delete(uid: string, sequence?: number): void {
    const existing = this.entries.get(uid);
    if (sequence !== undefined && existing && existing.sequence > sequence) return;
    this.entries.delete(uid);
  }

  /** The uids of every cached pod. */
  uids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Every cached pod's runtime status. A loop, not a callback made per call: this runs at each
   * PLEG event, and V8 compiles each such callback again once the last one was collected.
   */
  all(): PodRuntimeStatus[] {
    const statuses: PodRuntimeStatus[] = [];
    for (const entry of this.entries.values()) statuses.push(entry.status);
    return statuses;
  }
}
