import type { PodRuntimeStatus } from '../runtime/runtime-state';

export interface CachedPodStatus {
  status: PodRuntimeStatus;
  /** When this status was observed (ms). */
  observedAt: number;
}

/** The PLEG's view of each pod's runtime state, which pod syncs read instead of asking the runtime. */
export class PodCache {
  private readonly entries = new Map<string, CachedPodStatus>();

  get(uid: string): CachedPodStatus | undefined {
    return this.entries.get(uid);
  }

  set(uid: string, status: PodRuntimeStatus, observedAt: number): void {
    this.entries.set(uid, { status, observedAt });
  }

  delete(uid: string): void {
    this.entries.delete(uid);
  }

  uids(): string[] {
    return [...this.entries.keys()];
  }

  all(): PodRuntimeStatus[] {
    return [...this.entries.values()].map((entry) => entry.status);
  }
}
