import { containerNameLabel, podUidLabel } from '../cri/labels';
import type { PodRuntime } from '../cri/pod-runtime';
import type { MemoryManager } from './memory-manager';

/**
 * The same runtime, except that CreateContainer carries the NUMA nodes of the container's memory
 * in LinuxContainerResources.cpuset_mems (upstream's PreCreateContainer with GetMemoryNUMANodes;
 * nothing when the memory manager gave it none), and a created container is registered with the
 * memory manager (upstream's PreStartContainer AddContainer), which releases the memory of the
 * regular init containers before it. The pod and container are read from the config's labels.
 */
export function withContainerMemoryNodes<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: MemoryManager,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const podUid = config.labels?.[podUidLabel] ?? '';
        const name = config.labels?.[containerNameLabel] ?? '';
        const nodes = manager.numaNodes(podUid, name);
        const withNodes =
          nodes.length === 0
            ? config
            : {
                ...config,
                linux: {
                  ...config.linux,
                  resources: { ...config.linux?.resources, cpusetMems: nodes.join(',') },
                },
              };
        const id = await target.createContainer(sandboxId, withNodes, sandboxConfig);
        manager.addContainer(podUid, name, id);
        return id;
      };
      return create;
    },
  });
}
