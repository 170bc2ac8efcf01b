import type { KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import {
  defaultCgroupMountRoot,
  defaultProcRoot,
  startSystemContainers,
  systemCgroupsRootMessage,
} from '@nodeagent/kubelet/cgroups';
import { systemClock } from '@nodeagent/primitives';
import { StartupRefusedError } from './startup-checks';

/**
 * systemCgroups and kubeletCgroups, as upstream's container manager at the end of setupNode
 * (after node allocatable): the non-kernel processes of the root cgroup and the kubelet itself
 * moved into them now and every minute, failures logged. systemCgroups "/" stops the kubelet
 * as upstream's "Failed to start ContainerManager". `version` is the cgroup version the
 * start-up checks found. Returns the stop of the loops.
 */
export async function startSystemCgroups(
  config: Pick<KubeletConfiguration, 'kubeletCgroups' | 'systemCgroups' | 'oomScoreAdj'>,
  version: 1 | 2,
  logger: KubeletLogger,
): Promise<() => void> {
  try {
    return startSystemContainers({
      hierarchy: { mountRoot: defaultCgroupMountRoot, version },
      procRoot: defaultProcRoot,
      logger,
      kubeletCgroups: config.kubeletCgroups,
      systemCgroups: config.systemCgroups,
      oomScoreAdj: config.oomScoreAdj,
      pid: process.pid,
      clock: systemClock,
    });
  } catch (error) {
    if ((error as Error).message !== systemCgroupsRootMessage) throw error;
    throw new StartupRefusedError(
      'systemCgroups',
      config.systemCgroups,
      systemCgroupsRootMessage,
      'Failed to start ContainerManager',
    );
  }
}
