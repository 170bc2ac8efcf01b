import type { Clock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import type { KubeletLogger } from '../kubelet-logger';
import type { PodShutdownGroup } from './shutdown-grace-periods';

/**
 * Stops one pod with the given grace period and marks it as upstream's shutdown does (phase
 * Failed unless Succeeded, reason Terminated, the shutdown message, DisruptionTarget True);
 * resolves once its containers are stopped.
 */
export type ShutdownKillPod = (pod: Pod, gracePeriodSeconds: number) => Promise<void>;

/**
 * Upstream's volume manager WaitForAllPodsUnmount: resolves once every volume of `pods` is
 * unmounted; rejects when `signal` aborts (the group's time ran out) or the wait fails.
 */
export type WaitForUnmount = (pods: readonly Pod[], signal: AbortSignal) => Promise<void>;

function podName(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/**
 * Upstream podManager.killPods: group by group from the lowest priority, every pod of a group at
 * once, each with the group's grace period or its own terminationGracePeriodSeconds when shorter;
 * once all are stopped their volumes are waited for (`waitForUnmount`, so that a CSI driver in a
 * later group can still unmount them; best effort, a failure is logged). The next group starts
 * when that is done or the group's period ran out on `clock`, whichever is first. An empty group
 * is skipped without waiting.
 */
export async function killPodsByPriority(
  groups: readonly PodShutdownGroup[],
  killPod: ShutdownKillPod,
  clock: Clock,
  logger: KubeletLogger,
  waitForUnmount?: WaitForUnmount,
): Promise<void> {
  for (const group of groups) {
    if (group.pods.length === 0) continue;
    const kills = group.pods.map(async (pod) => {
      const own = pod.spec.terminationGracePeriodSeconds;
      const gracePeriod =
        own !== undefined && own <= group.shutdownGracePeriodSeconds ? own : group.shutdownGracePeriodSeconds;
      logger.info({ pod: podName(pod), gracePeriod }, 'Shutdown manager killing pod with gracePeriod');
      try {
        await killPod(pod, gracePeriod);
        logger.info({ pod: podName(pod) }, 'Shutdown manager finished killing pod');
      } catch (error) {
        logger.info({ pod: podName(pod), err: String(error) }, 'Shutdown manager failed killing pod');
      }
    });
    const deadline = new AbortController();
    let timer: unknown;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(true), group.shutdownGracePeriodSeconds * 1000);
    });
    const done = Promise.all(kills)
      .then(() => waitForUnmount?.(group.pods, deadline.signal))
      .catch((error: unknown) =>
        logger.error(
          { err: String(error), pods: group.pods.map(podName) },
          'Failed while waiting for all the volumes belonging to Pods in this group to unmount',
        ),
      )
      .then(() => false);
    const late = await Promise.race([done, timedOut]);
    clock.clearTimeout(timer);
    deadline.abort();
    const fields = { gracePeriod: group.shutdownGracePeriodSeconds, priority: group.priority };
    if (late) logger.info(fields, 'Shutdown manager pod killing time out');
    else logger.info(fields, 'Done waiting for all pods in group to terminate');
  }
}
