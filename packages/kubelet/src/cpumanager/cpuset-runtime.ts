import { containerNameLabel, podUidLabel } from '../cri/labels';
import type { PodRuntime } from '../cri/pod-runtime';
import type { CpuManager } from './cpu-manager';

/**
 * The same runtime, except that CreateContainer carries the container's cpuset in
 * LinuxContainerResources.cpuset_cpus (upstream's PreCreateContainer: its exclusive CPUs, else
 * the shared pool; nothing under the none policy), without a CFS quota for a container with
 * exclusive CPUs under DisableCPUQuotaWithExclusiveCPUs, and a created container is registered with
 * the CPU manager (upstream's PreStartContainer AddContainer). The pod and container are read
 * from the config's labels, which the kubelet sets on every container.
 */
export function withContainerCpusets<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: CpuManager,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const podUid = config.labels?.[podUidLabel] ?? '';
        const name = config.labels?.[containerNameLabel] ?? '';
        const cpus = manager.cpuset(podUid, name);
        const resources = config.linux?.resources;
        // Upstream's calculateLinuxResources sends quota -1 beside the period (cpuCFSQuota on).
        const noQuota = resources?.cpuPeriod !== undefined && manager.quotaDisabled(podUid, name);
        const withCpus =
          cpus === ''
            ? config
            : {
                ...config,
                linux: {
                  ...config.linux,
                  resources: { ...resources, cpusetCpus: cpus, ...(noQuota ? { cpuQuota: -1 } : {}) },
                },
              };
        const id = await target.createContainer(sandboxId, withCpus, sandboxConfig);
        manager.addContainer(podUid, name, id);
        return id;
      };
      return create;
    },
  });
}
