import type { ContainerStatus, PodStatus } from '../api/pod-types';
import type { ContainerWaitingReason } from '../status/generate-pod-status';

/** The waiting reason upstream's back-off of a dead container produces. */
export const crashLoopBackOffReason = 'CrashLoopBackOff';

/**
 * Upstream's reasonCache, for the CrashLoopBackOff reason: per pod and container, the back-off a
 * sync ran into, kept until a later sync starts that container.
 *
 * Upstream generates a pod's status at the start of each sync, from the reasons earlier syncs
 * left, and records this sync's start results afterwards. Since v1.35 (kubernetes#133066) a pod
 * whose container is backing off is synced again only when the back-off ends, so the one sync that
 * meets the back-off (the one the container's exit triggered) reports the exit as the container's
 * current state, `terminated`, and `waiting: CrashLoopBackOff` shows only in a sync that finds
 * the back-off recorded by an earlier one (a spec change, another container's event, the restart
 * sync itself). This kubelet reports a status after acting, so a back-off reaches the status
 * through this cache: only when an earlier sync met it too.
 */
export class ReasonCache {
  private readonly pods = new Map<string, Map<string, ContainerWaitingReason>>();

  /** The CrashLoopBackOff an earlier sync recorded for this container, if it has not started since. */
  get(uid: string, container: string): ContainerWaitingReason | undefined {
    return this.pods.get(uid)?.get(container);
  }

  /**
   * After a sync (upstream reasonCache.Update): a container that ran into its back-off is
   * recorded, one that was started is forgotten, the others keep what they had.
   */
  update(uid: string, waiting: ReadonlyMap<string, ContainerWaitingReason>, started: Iterable<string>): void {
    const containers = this.pods.get(uid) ?? new Map<string, ContainerWaitingReason>();
    for (const name of started) containers.delete(name);
    for (const [name, reason] of waiting) {
      if (reason.reason === crashLoopBackOffReason) containers.set(name, reason);
      else containers.delete(name);
    }
    if (containers.size > 0) this.pods.set(uid, containers);
    else this.pods.delete(uid);
  }

  /** Forgets a pod the kubelet is done with. */
  forget(uid: string): void {
    this.pods.delete(uid);
  }
}

/**
 * The waiting reasons a sync's status reports: this sync's own failures (image pulls, configs,
 * start errors), except CrashLoopBackOff, which is reported only as `previous` (the cache before
 * this sync) had it, for containers this sync did not start.
 */
export function reportedWaitingReasons(
  current: ReadonlyMap<string, ContainerWaitingReason>,
  previous: (container: string) => ContainerWaitingReason | undefined,
  started: ReadonlySet<string>,
  containers: Iterable<string>,
): Map<string, ContainerWaitingReason> {
  const reported = new Map<string, ContainerWaitingReason>();
  for (const [name, reason] of current)
    if (reason.reason !== crashLoopBackOffReason) reported.set(name, reason);
  for (const name of containers) {
    if (reported.has(name) || started.has(name)) continue;
    const earlier = previous(name);
    if (earlier) reported.set(name, earlier);
  }
  return reported;
}

/**
 * The status upstream reports at the start of a sync, before acting, for the containers whose
 * back-off an earlier sync recorded: a terminated container becomes `waiting` with the recorded
 * reason and its exit as `lastState` (convertToAPIContainerStatuses). In the sync that restarts
 * it, that is the `waiting: CrashLoopBackOff` upstream writes just before the start. Undefined
 * when no container changes.
 */
export function withRecordedBackOffs(
  status: PodStatus,
  recorded: (container: string) => ContainerWaitingReason | undefined,
): PodStatus | undefined {
  let changed = false;
  const convert = (statuses: ContainerStatus[] | undefined) =>
    statuses?.map((container) => {
      const reason = recorded(container.name);
      if (!reason || !container.state.terminated) return container;
      changed = true;
      const waiting = reason.message
        ? { reason: reason.reason, message: reason.message }
        : { reason: reason.reason };
      return { ...container, state: { waiting }, lastState: { terminated: container.state.terminated } };
    });
  const next: PodStatus = { ...status };
  if (status.initContainerStatuses) next.initContainerStatuses = convert(status.initContainerStatuses);
  if (status.containerStatuses) next.containerStatuses = convert(status.containerStatuses);
  return changed ? next : undefined;
}
