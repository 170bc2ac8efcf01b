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

function podName(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/**
 * Upstream podManager.killPods: group by group from the lowest priority, every pod of a group at
 * once, each with the group's grace period or its own terminationGracePeriodSeconds when shorter;
 * the next group starts when all of this one's pods are stopped or the group's period ran out on
 * `clock`, whichever is first. An empty group is skipped without waiting.
 */
export async function killPodsByPriority(
  groups: readonly PodShutdownGroup[],
  killPod: ShutdownKillPod,
  clock: Clock,
  logger: KubeletLogger,
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
    let timer: unknown;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(true), group.shutdownGracePeriodSeconds * 1000);
    });
    const late = await Promise.race([Promise.all(kills).then(() => false), timedOut]);
    clock.clearTimeout(timer);
    const fields = { gracePeriod: group.shutdownGracePeriodSeconds, priority: group.priority };
    if (late) logger.info(fields, 'Shutdown manager pod killing time out');
    else logger.info(fields, 'Done waiting for all pods in group to terminate');
  }
}
