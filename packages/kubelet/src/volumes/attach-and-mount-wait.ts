/**
 * Upstream's podAttachAndMountTimeout: how long one pod sync waits for the pod's volumes
 * (2 min 3 s, offset from 2 min so its timeouts are recognisable).
 */
export const podAttachAndMountTimeoutMs = 123_000;

/**
 * When each pod's current wait for its volumes began. Upstream's pod sync blocks in
 * WaitForAttachAndMount until the volumes are mounted or the timeout passes; here a sync that
 * finds volumes unmounted returns and comes back, so the wait is the time since the first such
 * sync. When it has lasted the timeout, it ends as upstream's does (the exhausted-attach check)
 * and the next sync begins a new one.
 */
export class AttachAndMountWaits {
  private readonly started = new Map<string, number>();

  /** A sync of pod `uid` at `now` left volumes unmounted: whether its wait timed out (a new one then begins). */
  timedOut(uid: string, now: number): boolean {
    const start = this.started.get(uid);
    if (start === undefined) {
      this.started.set(uid, now);
      return false;
    }
    if (now - start < podAttachAndMountTimeoutMs) return false;
    this.started.delete(uid);
    return true;
  }

  /** The pod's volumes are mounted, or the pod is gone: no wait is running. */
  done(uid: string): void {
    this.started.delete(uid);
  }
}
