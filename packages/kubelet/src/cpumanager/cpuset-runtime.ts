import { aroundCreateContainer } from '../cri/around-create-container';
import type { PodRuntime } from '../cri/pod-runtime';
import type { CpuManager } from './cpu-manager';

/**
 * The same runtime, except that CreateContainer carries the container's cpuset in
 * LinuxContainerResources.cpuset_cpus (upstream's PreCreateContainer: its exclusive CPUs, else
 * the shared pool; nothing under the none policy), without a CFS quota for a container with
 * exclusive CPUs under DisableCPUQuotaWithExclusiveCPUs, and a created container is registered with
 * the CPU manager (upstream's PreStartContainer AddContainer).
 */
export function withContainerCpusets<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: CpuManager,
): T {
  return aroundCreateContainer(runtime, {
    prepare: ({ podUid, name, config }) => {
      const cpus = manager.cpuset(podUid, name);
      if (cpus === '') return config;
      const resources = config.linux?.resources;
      // Upstream's calculateLinuxResources sends quota -1 beside the period (cpuCFSQuota on).
      const noQuota = resources?.cpuPeriod !== undefined && manager.quotaDisabled(podUid, name);
      return {
        ...config,
        linux: {
          ...config.linux,
          resources: { ...resources, cpusetCpus: cpus, ...(noQuota ? { cpuQuota: -1 } : {}) },
        },
      };
    },
    created: ({ podUid, name }) => manager.addContainer(podUid, name),
  });
}
